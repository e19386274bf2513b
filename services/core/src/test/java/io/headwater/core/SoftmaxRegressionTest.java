package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SoftmaxRegressionTest {

    @Test
    void shouldSeparateThreeClustersAndScoreHeldOutPoints() {
        Random random = new Random(7);
        List<SparseVector> xs = new ArrayList<>();
        List<String> ys = new ArrayList<>();
        List<SparseVector> testX = new ArrayList<>();
        List<String> testY = new ArrayList<>();
        String[] labels = {"a", "b", "c"};
        for (int i = 0; i < 300; i++) {
            int c = i % 3;
            float[] x = new float[8];
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (random.nextGaussian() * 0.3 + (j == c ? 1 : 0));
            }
            (i < 240 ? xs : testX).add(SparseVector.dense(x));
            (i < 240 ? ys : testY).add(labels[c]);
        }
        SoftmaxRegression lr = SoftmaxRegression.train(xs, ys, 8, SoftmaxRegression.Options.defaults(1));
        assertThat(lr.labels()).containsExactly("a", "b", "c");
        assertThat(lr.accuracy(testX, testY)).isGreaterThan(0.9);
        assertThat(lr.accuracy(xs, ys)).isGreaterThan(0.9);
    }

    @Test
    void shouldBeReproducibleForASeed() {
        List<SparseVector> xs = List.of(new SparseVector(new int[] {0}, new float[] {1}),
                new SparseVector(new int[] {1}, new float[] {1}), new SparseVector(new int[] {0, 1}, new float[] {0.6f, 0.8f}));
        List<String> ys = List.of("x", "y", "y");
        SparseVector probe = new SparseVector(new int[] {0, 1}, new float[] {0.8f, 0.6f});
        assertThat(SoftmaxRegression.train(xs, ys, 2, SoftmaxRegression.Options.defaults(3)).predict(probe))
                .isEqualTo(SoftmaxRegression.train(xs, ys, 2, SoftmaxRegression.Options.defaults(3)).predict(probe));
        assertThat(SoftmaxRegression.train(xs, ys, 2, SoftmaxRegression.Options.defaults(3))
                .predict(new SparseVector(new int[] {0}, new float[] {1}))).isEqualTo("x");
    }
}
