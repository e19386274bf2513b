package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What backbone to load and how to run it. Validated on construction: a bad value throws a
 * {@link ConfigException} naming the key and the value.
 *
 * <p>The backbone is either a bundled one, chosen by {@link #name()} (see {@link BundledModel}), or,
 * when {@link #userModel()} is present, an ONNX file and its tokenizer; {@link #name()} is then
 * ignored.
 *
 * <pre>{@code
 * BackboneSpec cpu = new BackboneSpec("all-minilm-l6-v2-q", 128, 64, 2); // provider auto
 * BackboneSpec gpu = BackboneSpec.builder()
 *         .name("all-minilm-l6-v2")            // fp32: the int8 models stay on the CPU
 *         .batchSize(256)
 *         .provider(ExecutionProvider.CUDA)
 *         .deviceId(0)
 *         .build();
 * try (Backbone backbone = Backbone.load(gpu)) { ... }
 * }</pre>
 *
 * <p>A class with a builder rather than a record, so that optional parts are {@code Optional} in
 * the API without an {@code Optional} parameter in a public canonical constructor. Equal when every
 * setting is equal.
 */
public final class BackboneSpec {

    /** The smallest {@link #maxTokens()} accepted: room for [CLS], [SEP] and a few words. */
    public static final int MIN_TOKENS = 8;
    /** The largest {@link #maxTokens()} accepted: BERT-style position embeddings stop at 512. */
    public static final int MAX_TOKENS = 512;

    private static final String DEFAULT_NAME = "all-minilm-l6-v2-q";
    private static final int DEFAULT_MAX_TOKENS = 256;
    private static final int DEFAULT_BATCH_SIZE = 32;

    private final String name;
    private final int maxTokens;
    private final int batchSize;
    private final int intraOpThreads;
    private final ExecutionProvider provider;
    private final int deviceId;
    private final OptionalInt dimension;
    private final Optional<UserModel> userModel;

    /**
     * A bundled backbone on {@link ExecutionProvider#AUTO}, device 0, with no dimension check.
     *
     * @param name id of a bundled backbone (see {@link BundledModel}); checked by {@link Backbone#load}
     * @param maxTokens texts are truncated to this many tokens, special tokens included (8..512)
     * @param batchSize at most this many texts go through the model in one run (>= 1); ignored for
     *     models whose rows interact ({@link BundledModel#rowsInteract()}), which run one text per run
     * @param intraOpThreads how many cores one backbone may use (>= 0). For a batched model, the
     *     ONNX Runtime intra-op thread count (0: ONNX Runtime's default); for a row-by-row model, the
     *     number of texts run at once, each on one thread (0: one per available processor)
     */
    public BackboneSpec(String name, int maxTokens, int batchSize, int intraOpThreads) {
        this(name, maxTokens, batchSize, intraOpThreads, ExecutionProvider.AUTO, 0, OptionalInt.empty(),
                Optional.empty());
    }

    private BackboneSpec(String name, int maxTokens, int batchSize, int intraOpThreads,
            ExecutionProvider provider, int deviceId, OptionalInt dimension, Optional<UserModel> userModel) {
        Objects.requireNonNull(name, "name cannot be null");
        if (name.isBlank()) {
            throw new ConfigException("backbone.name must not be blank, found '" + name + "'");
        }
        if (maxTokens < MIN_TOKENS || maxTokens > MAX_TOKENS) {
            throw new ConfigException("backbone.max.tokens must be in [" + MIN_TOKENS + ", "
                    + MAX_TOKENS + "], found " + maxTokens);
        }
        if (batchSize < 1) {
            throw new ConfigException("backbone.batch.size must be >= 1, found " + batchSize);
        }
        if (intraOpThreads < 0) {
            throw new ConfigException("backbone.threads must be >= 0, found " + intraOpThreads);
        }
        if (deviceId < 0) {
            throw new ConfigException("backbone.device.id must be >= 0, found " + deviceId);
        }
        if (dimension.isPresent() && dimension.getAsInt() < 1) {
            throw new ConfigException("backbone.dimension must be >= 1, found " + dimension.getAsInt());
        }
        this.name = name;
        this.maxTokens = maxTokens;
        this.batchSize = batchSize;
        this.intraOpThreads = intraOpThreads;
        this.provider = Objects.requireNonNull(provider, "provider cannot be null");
        this.deviceId = deviceId;
        this.dimension = dimension;
        this.userModel = Objects.requireNonNull(userModel, "userModel cannot be null");
    }

    /** all-minilm-l6-v2-q, 256 tokens, batches of 32, ONNX Runtime's default thread count, auto. */
    public static BackboneSpec defaults() {
        return new BackboneSpec(DEFAULT_NAME, DEFAULT_MAX_TOKENS, DEFAULT_BATCH_SIZE, 0);
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** A builder starting from this spec. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Id of the bundled backbone ({@code backbone.name}); ignored when {@link #userModel()} is present. */
    public String name() {
        return name;
    }

    /** Texts are truncated to this many tokens, special tokens included ({@code backbone.max.tokens}). */
    public int maxTokens() {
        return maxTokens;
    }

    /** At most this many texts per padded-batch run ({@code backbone.batch.size}). */
    public int batchSize() {
        return batchSize;
    }

    /** Cores one backbone may use ({@code backbone.threads}, 0: the default); see the constructor. */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    /** Where the session runs ({@code backbone.provider}). */
    public ExecutionProvider provider() {
        return provider;
    }

    /** The CUDA device, when CUDA is used ({@code backbone.device.id}). */
    public int deviceId() {
        return deviceId;
    }

    /** The vector width the model must produce, if checked ({@code backbone.dimension}). */
    public OptionalInt dimension() {
        return dimension;
    }

    /** The ONNX file and tokenizer to load instead of a bundled backbone, if any. */
    public Optional<UserModel> userModel() {
        return userModel;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof BackboneSpec other
                && name.equals(other.name)
                && maxTokens == other.maxTokens
                && batchSize == other.batchSize
                && intraOpThreads == other.intraOpThreads
                && provider == other.provider
                && deviceId == other.deviceId
                && dimension.equals(other.dimension)
                && userModel.equals(other.userModel);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, maxTokens, batchSize, intraOpThreads, provider, deviceId, dimension, userModel);
    }

    @Override
    public String toString() {
        return "BackboneSpec[name=" + name + ", maxTokens=" + maxTokens + ", batchSize=" + batchSize
                + ", intraOpThreads=" + intraOpThreads + ", provider=" + provider.configValue()
                + ", deviceId=" + deviceId + ", dimension=" + dimension + ", userModel=" + userModel + "]";
    }

    /**
     * Builds a {@link BackboneSpec}; every part is optional and starts at {@link #defaults()}.
     * Values are validated by {@link #build()}.
     */
    public static final class Builder {
        private String name;
        private int maxTokens;
        private int batchSize;
        private int intraOpThreads;
        private ExecutionProvider provider;
        private int deviceId;
        private OptionalInt dimension;
        private Optional<UserModel> userModel;

        private Builder(BackboneSpec from) {
            this.name = from.name;
            this.maxTokens = from.maxTokens;
            this.batchSize = from.batchSize;
            this.intraOpThreads = from.intraOpThreads;
            this.provider = from.provider;
            this.deviceId = from.deviceId;
            this.dimension = from.dimension;
            this.userModel = from.userModel;
        }

        /** A bundled backbone by id; see {@link BundledModel}. */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name cannot be null");
            return this;
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder intraOpThreads(int intraOpThreads) {
            this.intraOpThreads = intraOpThreads;
            return this;
        }

        public Builder provider(ExecutionProvider provider) {
            this.provider = Objects.requireNonNull(provider, "provider cannot be null");
            return this;
        }

        public Builder deviceId(int deviceId) {
            this.deviceId = deviceId;
            return this;
        }

        /** Requires the model to produce vectors of this width; start-up fails otherwise. */
        public Builder dimension(int dimension) {
            this.dimension = OptionalInt.of(dimension);
            return this;
        }

        /** Removes the dimension check. */
        public Builder noDimensionCheck() {
            this.dimension = OptionalInt.empty();
            return this;
        }

        /** Loads this ONNX file and tokenizer instead of a bundled backbone. */
        public Builder userModel(UserModel userModel) {
            this.userModel = Optional.of(Objects.requireNonNull(userModel, "userModel cannot be null"));
            return this;
        }

        /** Goes back to the bundled backbone named by {@link #name(String)}. */
        public Builder bundled() {
            this.userModel = Optional.empty();
            return this;
        }

        /** @throws ConfigException naming the key and the value of the first bad setting */
        public BackboneSpec build() {
            return new BackboneSpec(name, maxTokens, batchSize, intraOpThreads, provider, deviceId,
                    dimension, userModel);
        }
    }
}
