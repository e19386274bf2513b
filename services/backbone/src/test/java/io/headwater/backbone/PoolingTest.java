package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PoolingTest {

    private static double norm(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        return Math.sqrt(sum);
    }

    @Test
    void shouldIgnorePaddedPositionsWhenMeanPooling() {
        // given: two real tokens and one padded position whose values would dominate if counted
        float[][][] hidden = {{{1f, 2f}, {3f, 4f}, {100f, -100f}}};
        long[][] mask = {{1, 1, 0}};

        // when
        float[][] pooled = Pooling.meanPool(hidden, mask);

        // then: mean of the real tokens is (2, 3); normalised by sqrt(13)
        double n = Math.sqrt(13);
        assertThat(pooled).hasDimensions(1, 2);
        assertThat(pooled[0][0]).isCloseTo((float) (2 / n), within(1e-7f));
        assertThat(pooled[0][1]).isCloseTo((float) (3 / n), within(1e-7f));
        assertThat(norm(pooled[0])).isCloseTo(1.0, within(1e-6));
    }

    @Test
    void shouldPoolEachRowWithItsOwnMask() {
        // given: row 0 has one real token, row 1 has three
        float[][][] hidden = {
            {{3f, 0f, 4f}, {9f, 9f, 9f}, {9f, 9f, 9f}},
            {{1f, 0f, 0f}, {0f, 1f, 0f}, {0f, 0f, 1f}}};
        long[][] mask = {{1, 0, 0}, {1, 1, 1}};

        // when
        float[][] pooled = Pooling.pool(PoolingMode.MEAN, hidden, mask);

        // then
        assertThat(pooled[0]).containsExactly(new float[] {0.6f, 0f, 0.8f}, within(1e-7f));
        float third = (float) (1 / Math.sqrt(3));
        assertThat(pooled[1]).containsExactly(new float[] {third, third, third}, within(1e-7f));
        for (float[] row : pooled) {
            assertThat(norm(row)).isCloseTo(1.0, within(1e-6));
        }
    }

    @Test
    void shouldTakeFirstTokenWhenClsPooling() {
        // given
        float[][][] hidden = {{{0f, -5f}, {7f, 7f}}};
        long[][] mask = {{1, 1}};

        // when
        float[][] pooled = Pooling.pool(PoolingMode.CLS, hidden, mask);

        // then
        assertThat(pooled[0]).containsExactly(0f, -1f);
    }

    @Test
    void shouldGiveZeroVectorWhenNoTokenIsReal() {
        // given
        float[][][] hidden = {{{1f, 1f}}};
        long[][] mask = {{0}};

        // when
        float[][] pooled = Pooling.meanPool(hidden, mask);

        // then
        assertThat(pooled[0]).containsExactly(0f, 0f);
    }

    @Test
    void shouldScaleToUnitNormWhenNormalising() {
        // given
        float[] vector = {3f, 4f};

        // when
        float[] unit = Pooling.l2Normalize(vector);

        // then
        assertThat(unit).containsExactly(new float[] {0.6f, 0.8f}, within(1e-7f));
        assertThat(vector).containsExactly(3f, 4f);
    }
}
