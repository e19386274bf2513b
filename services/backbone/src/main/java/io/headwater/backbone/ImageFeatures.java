package io.headwater.backbone;

import java.util.Objects;

/**
 * Post-processing for an image backbone: a batch of raw outputs, flat in row-major order with
 * its shape, to one vector per image, pooled as {@link ImagePooling} says and optionally
 * L2-normalised. Pure arithmetic, no model session.
 *
 * <pre>{@code
 * float[][] vectors = ImageFeatures.pool(ImagePooling.MEAN, flat, new long[] {n, 128, 7, 7}, 1, true);
 * }</pre>
 */
public final class ImageFeatures {

    private static final double MIN_NORM = 1e-12;

    private ImageFeatures() {
    }

    /**
     * @param flat the output's values, row-major
     * @param shape its shape; {@code shape[0]} is the batch
     * @param featureAxis the axis that holds the features (for MEAN and MAX); every other non-batch
     *     axis is pooled over
     * @param normalize whether each vector is scaled to unit L2 norm (a zero vector stays zero)
     */
    public static float[][] pool(ImagePooling mode, float[] flat, long[] shape, int featureAxis, boolean normalize) {
        Objects.requireNonNull(mode, "mode cannot be null");
        Objects.requireNonNull(flat, "flat cannot be null");
        int n = (int) shape[0];
        int perRow = n == 0 ? 0 : flat.length / n;
        float[][] out = new float[n][];
        for (int row = 0; row < n; row++) {
            int base = row * perRow;
            out[row] = switch (mode) {
                case FLATTEN, NONE -> java.util.Arrays.copyOfRange(flat, base, base + perRow);
                case MEAN, MAX -> reduce(mode == ImagePooling.MAX, flat, base, shape, featureAxis);
            };
            if (normalize) {
                l2(out[row]);
            }
        }
        return out;
    }

    /** Mean or max over every non-batch axis but {@code featureAxis}, for one row starting at {@code base}. */
    private static float[] reduce(boolean max, float[] flat, int base, long[] shape, int featureAxis) {
        int features = (int) shape[featureAxis];
        // The row's values as [outer][features][inner], where outer and inner are the products of the
        // non-batch axes before and after the feature axis.
        int outer = 1;
        for (int a = 1; a < featureAxis; a++) {
            outer *= (int) shape[a];
        }
        int inner = 1;
        for (int a = featureAxis + 1; a < shape.length; a++) {
            inner *= (int) shape[a];
        }
        double[] acc = new double[features];
        if (max) {
            java.util.Arrays.fill(acc, Double.NEGATIVE_INFINITY);
        }
        for (int o = 0; o < outer; o++) {
            for (int f = 0; f < features; f++) {
                int at = base + (o * features + f) * inner;
                double a = acc[f];
                for (int i = 0; i < inner; i++) {
                    float v = flat[at + i];
                    a = max ? Math.max(a, v) : a + v;
                }
                acc[f] = a;
            }
        }
        float[] out = new float[features];
        double count = (double) outer * inner;
        for (int f = 0; f < features; f++) {
            out[f] = (float) (max ? acc[f] : acc[f] / count);
        }
        return out;
    }

    private static void l2(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        double scale = 1.0 / Math.max(Math.sqrt(norm), MIN_NORM);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] * scale);
        }
    }
}
