package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.util.Objects;

/**
 * What backbone to load and how to run it. Validated on construction: a bad value throws a
 * {@link ConfigException} naming the key and the value.
 *
 * <pre>{@code
 * BackboneSpec spec = new BackboneSpec("all-minilm-l6-v2-q", 128, 64, 2);
 * try (Backbone backbone = Backbone.load(spec)) { ... }
 * }</pre>
 *
 * @param name id of a bundled backbone (see {@link BundledModel}); checked by {@link Backbone#load}
 * @param maxTokens texts are truncated to this many tokens, special tokens included (8..512)
 * @param batchSize at most this many texts go through the model in one run (>= 1); ignored for
 *     models whose rows interact ({@link BundledModel#rowsInteract()}), which run one text per run
 * @param intraOpThreads how many cores one backbone may use (>= 0). For a batched model, the ONNX
 *     Runtime intra-op thread count (0: ONNX Runtime's default); for a row-by-row model, the number
 *     of texts run at once, each on one thread (0: one per available processor)
 */
public record BackboneSpec(String name, int maxTokens, int batchSize, int intraOpThreads) {

    /** The smallest {@link #maxTokens()} accepted: room for [CLS], [SEP] and a few words. */
    public static final int MIN_TOKENS = 8;
    /** The largest {@link #maxTokens()} accepted: BERT-style position embeddings stop at 512. */
    public static final int MAX_TOKENS = 512;

    public BackboneSpec {
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
    }

    /** all-minilm-l6-v2-q, 256 tokens, batches of 32, ONNX Runtime's default thread count. */
    public static BackboneSpec defaults() {
        return new BackboneSpec(BundledModel.ALL_MINILM_L6_V2_Q.id(), 256, 32, 0);
    }
}
