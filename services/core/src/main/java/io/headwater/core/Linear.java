package io.headwater.core;

/**
 * The little dense linear algebra the heads need; no native code. A symmetric matrix is held as
 * its lower triangle, one array per row: {@code l[i][j]} for {@code j <= i}. Every inner loop is an
 * {@code a[k] -= s * b[k]} over the same consecutive elements of its arrays, which the JIT turns
 * into vector instructions (a dot product cannot be: Java fixes the order of its additions): the
 * Cholesky factorisation subtracts each panel of four finished columns from the rows below it in
 * one pass, and the triangular solves run across all right-hand sides at once. Deterministic: the
 * same input gives the same bits on every run.
 */
final class Linear {
    /** Columns factored together before the rows below them are updated: one pass over those rows per panel. */
    private static final int PANEL = 4;

    private Linear() {
    }

    /** An empty lower triangle of order {@code n}: row {@code i} has {@code i + 1} elements. */
    static double[][] lower(int n) {
        double[][] l = new double[n][];
        for (int i = 0; i < n; i++) {
            l[i] = new double[i + 1];
        }
        return l;
    }

    /**
     * Replaces the lower triangle of a symmetric positive definite {@code A} with the
     * lower-triangular {@code L} of its Cholesky factorisation, {@code L L^T = A}.
     *
     * @throws ArithmeticException naming the row where {@code A} turned out not positive definite
     */
    static void choleskyInPlace(double[][] l) {
        int n = l.length;
        double[][] cols = new double[PANEL][n];
        for (int j0 = 0; j0 < n; j0 += PANEL) {
            int j1 = Math.min(n, j0 + PANEL);
            // Factor the panel's columns, updating only the panel.
            for (int j = j0; j < j1; j++) {
                double d = l[j][j];
                if (!(d > 0)) {
                    throw new ArithmeticException("matrix is not positive definite at row " + j);
                }
                d = Math.sqrt(d);
                l[j][j] = d;
                double[] col = cols[j - j0];
                for (int i = j + 1; i < n; i++) {
                    double v = l[i][j] / d;
                    l[i][j] = v;
                    col[i] = v;
                }
                for (int i = j + 1; i < n; i++) {
                    double[] li = l[i];
                    double s = col[i];
                    for (int k = j + 1, end = Math.min(i, j1 - 1); k <= end; k++) {
                        li[k] -= s * col[k];
                    }
                }
            }
            // Then subtract the whole panel from the rows and columns after it, in one pass.
            if (j1 - j0 == PANEL) {
                double[] c0 = cols[0];
                double[] c1 = cols[1];
                double[] c2 = cols[2];
                double[] c3 = cols[3];
                for (int i = j1; i < n; i++) {
                    double[] li = l[i];
                    double s0 = c0[i];
                    double s1 = c1[i];
                    double s2 = c2[i];
                    double s3 = c3[i];
                    for (int k = j1; k <= i; k++) {
                        li[k] -= s0 * c0[k] + s1 * c1[k] + s2 * c2[k] + s3 * c3[k];
                    }
                }
            } else {
                for (int j = j0; j < j1; j++) {
                    double[] col = cols[j - j0];
                    for (int i = j1; i < n; i++) {
                        double[] li = l[i];
                        double s = col[i];
                        for (int k = j1; k <= i; k++) {
                            li[k] -= s * col[k];
                        }
                    }
                }
            }
        }
    }

    /**
     * Solves {@code L L^T x = b} for every row {@code b} of {@code rhs} at once, with {@code L} from
     * {@link #choleskyInPlace}; row {@code c} of the result solves row {@code c} of {@code rhs}.
     */
    static double[][] choleskySolveAll(double[][] l, double[][] rhs) {
        int n = l.length;
        int m = rhs.length;
        // y[i][c]: unknown i of right-hand side c, so that the inner loops run across c. Four rows
        // of L are taken per pass over a row of y, each term added in the same order as one row at a
        // time would (left to right), so the result is the same to the bit, with a quarter of the
        // passes. (Rows of y as arrays of their own: with one flat array the JIT cannot tell that a
        // pass does not read what it writes, and does not vectorise it.)
        double[][] y = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] yi = y[i];
            for (int c = 0; c < m; c++) {
                yi[c] = rhs[c][i];
            }
            double[] li = l[i];
            int k = 0;
            for (; k + 3 < i; k += 4) {
                add4(yi, -li[k], y[k], -li[k + 1], y[k + 1], -li[k + 2], y[k + 2], -li[k + 3], y[k + 3]);
            }
            for (; k < i; k++) {
                axpy(yi, -li[k], y[k]);
            }
            divide(yi, li[i]);
        }
        // L^T x = y, one unknown at a time from the last: once x[i] is known, its term leaves every
        // earlier equation, and those terms are row i of L. In blocks of four unknowns: the block's
        // own terms first, one unknown at a time, then its four terms in every earlier equation in
        // one pass, in the order one at a time would add them (i, i - 1, i - 2, i - 3).
        int i = n - 1;
        for (; i >= 3; i -= 4) {
            for (int j = i; j > i - 4; j--) {
                double[] lj = l[j];
                divide(y[j], lj[j]);
                for (int k = j - 1; k > i - 4; k--) {
                    axpy(y[k], -lj[k], y[j]);
                }
            }
            double[] l0 = l[i];
            double[] l1 = l[i - 1];
            double[] l2 = l[i - 2];
            double[] l3 = l[i - 3];
            for (int k = 0; k < i - 3; k++) {
                add4(y[k], -l0[k], y[i], -l1[k], y[i - 1], -l2[k], y[i - 2], -l3[k], y[i - 3]);
            }
        }
        for (; i >= 0; i--) {
            double[] li = l[i];
            divide(y[i], li[i]);
            for (int k = 0; k < i; k++) {
                axpy(y[k], -li[k], y[i]);
            }
        }
        double[][] x = new double[m][n];
        for (int r = 0; r < n; r++) {
            double[] yr = y[r];
            for (int c = 0; c < m; c++) {
                x[c][r] = yr[c];
            }
        }
        return x;
    }

    /** {@code a[k] = a[k] + s0 * b0[k] + s1 * b1[k] + s2 * b2[k] + s3 * b3[k]}: four axpys, in order, in one pass. */
    private static void add4(double[] a, double s0, double[] b0, double s1, double[] b1, double s2, double[] b2,
                             double s3, double[] b3) {
        for (int k = 0; k < a.length; k++) {
            a[k] = a[k] + s0 * b0[k] + s1 * b1[k] + s2 * b2[k] + s3 * b3[k];
        }
    }

    private static void divide(double[] a, double d) {
        for (int k = 0; k < a.length; k++) {
            a[k] /= d;
        }
    }

    /** {@code a[k] += s * b[k]} for every {@code k} of {@code a} ({@code b} may be longer). */
    static void axpy(double[] a, double s, double[] b) {
        for (int k = 0; k < a.length; k++) {
            a[k] += s * b[k];
        }
    }
}
