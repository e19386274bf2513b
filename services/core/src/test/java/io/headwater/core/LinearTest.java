package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class LinearTest {
    /** {@code m m^T + n I}: symmetric positive definite, and far from diagonal. */
    static double[][] spd(int n, long seed) {
        Random rnd = new Random(seed);
        double[][] m = new double[n][n];
        for (double[] row : m) {
            for (int j = 0; j < n; j++) {
                row[j] = rnd.nextGaussian();
            }
        }
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += m[i][k] * m[j][k];
                }
                a[i][j] = s + (i == j ? n : 0);
            }
        }
        return a;
    }

    static double[][] lowerOf(double[][] a) {
        double[][] l = Linear.lower(a.length);
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, l[i], 0, i + 1);
        }
        return l;
    }

    // Sizes below, at and above the four-way unrolling, and the head's 384.
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 7, 17, 384})
    void choleskyReproducesTheMatrixAndSolves(int n) {
        double[][] a = spd(n, n);
        double[][] l = lowerOf(a);
        Linear.choleskyInPlace(l);
        double scale = n * 2.0;
        for (int i = 0; i < n; i++) {
            assertThat(l[i]).hasSize(i + 1);
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = 0; k <= j; k++) {
                    s += l[i][k] * l[j][k];
                }
                assertThat(s).isCloseTo(a[i][j], within(1e-10 * scale));
            }
        }
        Random rnd = new Random(7);
        double[][] b = new double[3][n];
        for (double[] row : b) {
            for (int i = 0; i < n; i++) {
                row[i] = rnd.nextGaussian();
            }
        }
        double[][] before = {b[0].clone(), b[1].clone(), b[2].clone()};
        double[][] x = Linear.choleskySolveAll(l, b);
        assertThat(b).isDeepEqualTo(before);
        for (int c = 0; c < b.length; c++) {
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += a[i][k] * x[c][k];
                }
                assertThat(s).as("row %d of solution %d", i, c).isCloseTo(b[c][i], within(1e-9));
            }
        }
    }

    @Test
    void theSameInputGivesTheSameBits() {
        double[][] a = spd(384, 3);
        double[][] b = new double[2][384];
        java.util.Arrays.fill(b[0], 0.5);
        java.util.Arrays.fill(b[1], -1.5);
        double[][] u1 = lowerOf(a);
        double[][] u2 = lowerOf(a);
        Linear.choleskyInPlace(u1);
        Linear.choleskyInPlace(u2);
        double[][] x1 = Linear.choleskySolveAll(u1, b);
        double[][] x2 = Linear.choleskySolveAll(u2, b);
        assertThat(x1).isDeepEqualTo(x2);
    }

    /** The solve one unknown and one row of L at a time, as it was before it took four per pass. */
    static double[][] solveOneRowAtATime(double[][] l, double[][] rhs) {
        int n = l.length;
        int m = rhs.length;
        double[][] y = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < m; c++) {
                y[i][c] = rhs[c][i];
            }
            for (int k = 0; k < i; k++) {
                Linear.axpy(y[i], -l[i][k], y[k]);
            }
            for (int c = 0; c < m; c++) {
                y[i][c] /= l[i][i];
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            for (int c = 0; c < m; c++) {
                y[i][c] /= l[i][i];
            }
            for (int k = 0; k < i; k++) {
                Linear.axpy(y[k], -l[i][k], y[i]);
            }
        }
        double[][] x = new double[m][n];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < m; c++) {
                x[c][i] = y[i][c];
            }
        }
        return x;
    }

    // Sizes around the blocks of four unknowns, and the head's 384 with 1, 3 and 36 labels.
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 384})
    void theSolveGivesTheBitsOfOneRowAtATime(int n) {
        double[][] l = lowerOf(spd(n, 11 + n));
        Linear.choleskyInPlace(l);
        Random rnd = new Random(n);
        for (int m : new int[] {1, 3, 36}) {
            double[][] b = new double[m][n];
            for (double[] row : b) {
                for (int i = 0; i < n; i++) {
                    row[i] = rnd.nextGaussian() * 100;
                }
            }
            assertThat(Linear.choleskySolveAll(l, b)).as("n %d, m %d", n, m).isDeepEqualTo(solveOneRowAtATime(l, b));
        }
    }

    @Test
    void aMatrixThatIsNotPositiveDefiniteIsRefusedNamingTheRow() {
        double[][] a = {{1, 2}, {2, 1}};
        assertThatThrownBy(() -> Linear.choleskyInPlace(lowerOf(a))).isInstanceOf(ArithmeticException.class)
                .hasMessageContaining("row 1");
        // A zero pivot, past the first panel of four rows.
        double[][] b = spd(9, 1);
        for (int j = 0; j < 9; j++) {
            b[6][j] = 0;
            b[j][6] = 0;
        }
        assertThatThrownBy(() -> Linear.choleskyInPlace(lowerOf(b))).isInstanceOf(ArithmeticException.class)
                .hasMessageContaining("row 6");
    }
}
