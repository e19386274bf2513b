package io.headwater.backbone;

/**
 * How a backbone's per-token hidden states become one sentence vector.
 *
 * <pre>{@code
 * float[][] vectors = Pooling.pool(PoolingMode.MEAN, hidden, attentionMask);
 * }</pre>
 */
public enum PoolingMode {
    /** Average of the hidden states of the real (unpadded) tokens: sentence-transformers MiniLM. */
    MEAN,
    /** The hidden state of the first token ({@code [CLS]}): bge and other CLS-trained models. */
    CLS
}
