package io.headwater.backbone;

import java.util.Objects;

/**
 * Post-processing for a backbone: per-token hidden states {@code [batch][seq][dim]} to one
 * L2-normalised vector per text. Pure arithmetic, no model session.
 *
 * <pre>{@code
 * float[][] vectors = Pooling.pool(PoolingMode.MEAN, hidden, batch.attentionMask());
 * }</pre>
 */
public final class Pooling {

    /** Norms below this are treated as this, so an all-zero vector stays zero (as in PyTorch). */
    private static final double MIN_NORM = 1e-12;

    private Pooling() {
    }

    /** Pools with the given mode, then L2-normalises each vector. */
    public static float[][] pool(PoolingMode mode, float[][][] hidden, long[][] attentionMask) {
        Objects.requireNonNull(mode, "mode cannot be null");
        return switch (mode) {
            case MEAN -> meanPool(hidden, attentionMask);
            case CLS -> clsPool(hidden);
        };
    }

    /**
     * Average of the hidden states at positions whose mask is 1, then L2-normalised. Padded
     * positions (mask 0) do not count. A row with no real token gives a zero vector.
     */
    public static float[][] meanPool(float[][][] hidden, long[][] attentionMask) {
        Objects.requireNonNull(hidden, "hidden cannot be null");
        Objects.requireNonNull(attentionMask, "attentionMask cannot be null");
        if (hidden.length != attentionMask.length) {
            throw new IllegalArgumentException("hidden has " + hidden.length + " rows but mask has "
                    + attentionMask.length);
        }
        float[][] pooled = new float[hidden.length][];
        for (int row = 0; row < hidden.length; row++) {
            float[][] tokens = hidden[row];
            long[] mask = attentionMask[row];
            if (tokens.length != mask.length) {
                throw new IllegalArgumentException("row " + row + " has " + tokens.length
                        + " positions but mask has " + mask.length);
            }
            int dim = tokens.length == 0 ? 0 : tokens[0].length;
            double[] sum = new double[dim];
            long count = 0;
            for (int pos = 0; pos < tokens.length; pos++) {
                if (mask[pos] == 0) {
                    continue;
                }
                count++;
                float[] token = tokens[pos];
                for (int d = 0; d < dim; d++) {
                    sum[d] += token[d];
                }
            }
            pooled[row] = normalize(sum, Math.max(count, 1));
        }
        return pooled;
    }

    /** The hidden state of the first position of each row ({@code [CLS]}), L2-normalised. */
    public static float[][] clsPool(float[][][] hidden) {
        Objects.requireNonNull(hidden, "hidden cannot be null");
        float[][] pooled = new float[hidden.length][];
        for (int row = 0; row < hidden.length; row++) {
            float[] cls = hidden[row][0];
            double[] copy = new double[cls.length];
            for (int d = 0; d < cls.length; d++) {
                copy[d] = cls[d];
            }
            pooled[row] = normalize(copy, 1);
        }
        return pooled;
    }

    /** A copy of {@code vector} scaled to unit L2 norm (a zero vector stays zero). */
    public static float[] l2Normalize(float[] vector) {
        Objects.requireNonNull(vector, "vector cannot be null");
        double[] copy = new double[vector.length];
        for (int d = 0; d < vector.length; d++) {
            copy[d] = vector[d];
        }
        return normalize(copy, 1);
    }

    // Divides by the count and then by the norm, in double, so the float result is exact to
    // float precision whatever the sequence length.
    private static float[] normalize(double[] sum, long count) {
        double norm = 0;
        for (double v : sum) {
            double mean = v / count;
            norm += mean * mean;
        }
        double scale = 1.0 / (count * Math.max(Math.sqrt(norm), MIN_NORM));
        float[] out = new float[sum.length];
        for (int d = 0; d < sum.length; d++) {
            out[d] = (float) (sum[d] * scale);
        }
        return out;
    }
}
