package io.headwater.backbone;

import io.headwater.core.ConfigException;
import io.headwater.core.FatalException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Everything {@link Backbone#load} needs to know about one model before it opens a session: its
 * id, checksum and settings, where its bytes come from (a classpath resource, read into memory, or
 * a file, which ONNX Runtime reads itself so that external data files beside it work) and how to
 * open its tokenizer. Both a {@link BundledModel} and a {@link UserModel} resolve to one.
 */
final class ModelSource {

    private static final String GPU_ADVICE_BUNDLED = "use backbone.name=" + BundledModel.ALL_MINILM_L6_V2.id()
            + " (float32) on the GPU, or backbone.provider=cpu";
    private static final String GPU_ADVICE_FILE =
            "export a float32 or float16 model for the GPU, or set backbone.provider=cpu";

    private final OnnxFile file;
    private final PoolingMode pooling;
    private final boolean rowsInteract;
    private final TensorNames names;
    private final OptionalInt expectedDimension;
    private final String expectedDimensionSource;
    private final Optional<BundledModel> bundled;
    private final Optional<Path> tokenizerPath;

    private ModelSource(OnnxFile file, PoolingMode pooling, boolean rowsInteract, TensorNames names,
            OptionalInt expectedDimension, String expectedDimensionSource, Optional<BundledModel> bundled,
            Optional<Path> tokenizerPath) {
        this.file = file;
        this.pooling = pooling;
        this.rowsInteract = rowsInteract;
        this.names = names;
        this.expectedDimension = expectedDimension;
        this.expectedDimensionSource = expectedDimensionSource;
        this.bundled = bundled;
        this.tokenizerPath = tokenizerPath;
    }

    /** The model a spec asks for: its user model if present, else the bundled one it names. */
    static ModelSource of(BackboneSpec spec) {
        Objects.requireNonNull(spec, "spec cannot be null");
        return spec.userModel().isPresent()
                ? user(spec.userModel().get(), spec.dimension())
                : bundled(bundledModel(spec.name()), spec.dimension());
    }

    /**
     * A bundled model, read from the classpath.
     *
     * @throws ConfigException if {@code dimension} is present and not the model's
     */
    static ModelSource bundled(BundledModel model, OptionalInt dimension) {
        Objects.requireNonNull(model, "model cannot be null");
        if (dimension.isPresent() && dimension.getAsInt() != model.dimension()) {
            throw new ConfigException("backbone.dimension is " + dimension.getAsInt() + " but backbone "
                    + model.id() + " has dimension " + model.dimension());
        }
        OnnxFile file = OnnxFile.resource(model.id(), model.modelResource(), GPU_ADVICE_BUNDLED);
        return new ModelSource(file, model.pooling(), model.rowsInteract(), model.names(),
                OptionalInt.of(model.dimension()),
                dimension.isPresent() ? "backbone.dimension is" : "backbone " + model.id() + " has dimension",
                Optional.of(model), Optional.empty());
    }

    /**
     * A model from files. Reads the model once to hash it and look for dynamic quantization.
     *
     * @throws ConfigException if either file is missing
     * @throws FatalException if the model cannot be read
     */
    static ModelSource user(UserModel model, OptionalInt dimension) {
        Objects.requireNonNull(model, "model cannot be null");
        Path tokenizer = model.tokenizerPath().toAbsolutePath().normalize();
        OnnxFile.requireFile(model.modelPath().toAbsolutePath().normalize(), "backbone.model.path");
        OnnxFile.requireFile(tokenizer, "backbone.tokenizer.path");
        OnnxFile file = OnnxFile.file(model.id(), model.modelPath(), "backbone.model.path", GPU_ADVICE_FILE);
        return new ModelSource(file, model.pooling(), model.rowsInteract(), model.names(), dimension,
                "backbone.dimension is", Optional.empty(), Optional.of(tokenizer));
    }

    /** Stable id, e.g. {@code all-minilm-l6-v2-q} or a model file's name. */
    String id() {
        return file.id();
    }

    /** Where the graph comes from, for messages: a file path or {@code classpath:/x.onnx}. */
    String source() {
        return file.source();
    }

    /** Lower-case hex SHA-256 of the graph's bytes. */
    String sha256() {
        return file.sha256();
    }

    /** Whether the graph has {@code DynamicQuantizeLinear} nodes (int8 with per-tensor scales). */
    boolean dynamicallyQuantized() {
        return file.dynamicallyQuantized();
    }

    PoolingMode pooling() {
        return pooling;
    }

    boolean rowsInteract() {
        return rowsInteract;
    }

    TensorNames names() {
        return names;
    }

    /** The width the output must have, if known before the model runs. */
    OptionalInt expectedDimension() {
        return expectedDimension;
    }

    /** Why that width is expected, to end a message: "backbone.dimension is" 384. */
    String expectedDimensionSource() {
        return expectedDimensionSource;
    }

    /** The bundled model this is, if it is one. */
    Optional<BundledModel> bundled() {
        return bundled;
    }

    /** The graph, to open a session on. */
    Sessions.Graph graph() {
        return file;
    }

    /** Opens the model's tokenizer. */
    TextTokenizer openTokenizer(int maxTokens) {
        if (bundled.isPresent()) {
            return TextTokenizer.bundled(bundled.get(), maxTokens);
        }
        Path file = tokenizerPath.orElseThrow();
        try (InputStream json = Files.newInputStream(file)) {
            // Padded positions have mask 0, so with right padding the pad id never reaches a real
            // token's output: 0 ([PAD] in BERT vocabularies) is as good as any.
            return TextTokenizer.fromJson(json, file.toString(), maxTokens, 0L);
        } catch (IOException e) {
            throw new FatalException("Failed to read tokenizer " + file, e);
        }
    }

    private static BundledModel bundledModel(String name) {
        return BundledModel.byName(name)
                .orElseThrow(() -> new ConfigException("backbone.name must be one of ["
                        + BundledModel.knownNames() + "], found '" + name
                        + "' (or set backbone.model.path to load an ONNX file)"));
    }

    /** Whether {@code needle} occurs in the first {@code length} bytes of {@code haystack}. */
    static boolean contains(byte[] haystack, int length, byte[] needle) {
        return OnnxFile.contains(haystack, length, needle);
    }
}
