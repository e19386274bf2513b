package io.headwater.core;

import java.util.Arrays;
import java.util.Objects;

/**
 * A vector given by its non-zero entries: strictly increasing {@code indices} and their
 * {@code values}. Made by {@link HashedBagOfWords}; {@link #dense(float[])} wraps an embedding.
 *
 * <pre>{@code
 * SparseVector v = new SparseVector(new int[] {3, 17}, new float[] {0.6f, 0.8f});
 * double d = v.dot(weights);
 * }</pre>
 */
public record SparseVector(int[] indices, float[] values) {

    public SparseVector {
        Objects.requireNonNull(indices, "indices cannot be null");
        Objects.requireNonNull(values, "values cannot be null");
        if (indices.length != values.length) {
            throw new IllegalArgumentException("indices and values differ in length: " + indices.length + " vs " + values.length);
        }
        for (int i = 1; i < indices.length; i++) {
            if (indices[i] <= indices[i - 1]) {
                throw new IllegalArgumentException("indices must increase strictly, found " + indices[i - 1]
                        + " then " + indices[i] + " at " + i);
            }
        }
    }

    /** Every entry of {@code x}, zero or not. */
    public static SparseVector dense(float[] x) {
        int[] idx = new int[x.length];
        Arrays.setAll(idx, i -> i);
        return new SparseVector(idx, x.clone());
    }

    /** Number of stored entries. */
    public int size() {
        return indices.length;
    }

    /** Dot product with a dense vector at least as long as the largest index. */
    public double dot(double[] w) {
        double s = 0;
        for (int i = 0; i < indices.length; i++) {
            s += w[indices[i]] * values[i];
        }
        return s;
    }

    /** Euclidean norm. */
    public double norm() {
        double s = 0;
        for (float v : values) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }
}
