package io.headwater.core;

import java.util.Arrays;
import java.util.List;

/**
 * LDA computed the textbook way, as a reference for the streaming head: class means in one pass,
 * the pooled covariance of centred examples in a second, the same shrinkage, and Gaussian
 * elimination with partial pivoting instead of Cholesky. Shared with other modules' tests.
 */
public final class BatchLda {
    private BatchLda() {
    }

    public static HeadArtifact solve(List<float[]> xs, List<String> ys, List<String> labels, double shrinkage) {
        int d = xs.get(0).length;
        int k = labels.size();
        double[][] means = new double[k][d];
        int[] counts = new int[k];
        for (int n = 0; n < xs.size(); n++) {
            int c = labels.indexOf(ys.get(n));
            counts[c]++;
            for (int i = 0; i < d; i++) {
                means[c][i] += xs.get(n)[i];
            }
        }
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < d; i++) {
                means[c][i] /= counts[c];
            }
        }
        double[][] cov = new double[d][d];
        for (int n = 0; n < xs.size(); n++) {
            double[] mu = means[labels.indexOf(ys.get(n))];
            float[] x = xs.get(n);
            for (int i = 0; i < d; i++) {
                double xi = x[i] - mu[i];
                for (int j = 0; j < d; j++) {
                    cov[i][j] += xi * (x[j] - mu[j]);
                }
            }
        }
        double trace = 0;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                cov[i][j] /= (xs.size() - k);
            }
            trace += cov[i][i];
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                cov[i][j] = (1 - shrinkage) * cov[i][j] + (i == j ? shrinkage * trace / d : 0);
            }
        }
        float[] w = new float[k * d];
        float[] b = new float[k];
        for (int c = 0; c < k; c++) {
            double[] sol = gaussSolve(cov, means[c]);
            double dot = 0;
            for (int i = 0; i < d; i++) {
                w[c * d + i] = (float) sol[i];
                dot += sol[i] * means[c][i];
            }
            b[c] = (float) (-0.5 * dot + Math.log((double) counts[c] / xs.size()));
        }
        return new HeadArtifact(labels, List.of(new DenseLayer(d, k, w, b, DenseLayer.Activation.SOFTMAX)));
    }

    static double[] gaussSolve(double[][] a0, double[] b0) {
        int n = b0.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = Arrays.copyOf(a0[i], n + 1);
            a[i][n] = b0[i];
        }
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
                    piv = r;
                }
            }
            double[] t = a[col];
            a[col] = a[piv];
            a[piv] = t;
            for (int r = col + 1; r < n; r++) {
                double f = a[r][col] / a[col][col];
                for (int c = col; c <= n; c++) {
                    a[r][c] -= f * a[col][c];
                }
            }
        }
        double[] x = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            double s = a[i][n];
            for (int j = i + 1; j < n; j++) {
                s -= a[i][j] * x[j];
            }
            x[i] = s / a[i][i];
        }
        return x;
    }
}
