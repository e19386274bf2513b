package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DriftDetectorTest {

    /** Indices at which the detector reported a change, for Bernoulli values with the given rates. */
    static List<Integer> run(DriftDetector d, long seed, double[] rates, int segment) {
        Random rnd = new Random(seed);
        List<Integer> at = new ArrayList<>();
        int i = 0;
        for (double rate : rates) {
            for (int k = 0; k < segment; k++, i++) {
                if (d.add(rnd.nextDouble() < rate ? 1 : 0)) {
                    at.add(i);
                }
            }
        }
        return at;
    }

    @Test
    void shouldStayQuietOnAStationaryStream() {
        for (long seed = 1; seed <= 20; seed++) {
            DriftDetector d = new DriftDetector(0.002);
            assertThat(run(d, seed, new double[] {0.2}, 20_000)).as("seed " + seed).isEmpty();
            assertThat(d.mean()).isCloseTo(0.2, within(0.02));
        }
    }

    @Test
    void shouldReportAnAbruptChangeOnceAndSoon() {
        for (long seed = 1; seed <= 20; seed++) {
            DriftDetector d = new DriftDetector(0.002);
            List<Integer> at = run(d, seed, new double[] {0.1, 0.5}, 5_000);
            assertThat(at).as("seed " + seed).hasSize(1);
            assertThat(at.get(0)).as("seed " + seed).isBetween(5_000, 5_400);
            // the window now holds the new regime only
            assertThat(d.mean()).isCloseTo(0.5, within(0.05));
        }
    }

    @Test
    void shouldReportEachOfTwoChanges() {
        DriftDetector d = new DriftDetector(0.002);
        List<Integer> at = run(d, 7, new double[] {0.1, 0.5, 0.1}, 4_000);
        assertThat(at).hasSize(2);
        assertThat(at.get(0)).isBetween(4_000, 4_400);
        assertThat(at.get(1)).isBetween(8_000, 8_400);
        assertThat(d.detections()).isEqualTo(2);
    }

    @Test
    void shouldKeepTheWindowBounded() {
        DriftDetector d = new DriftDetector(0.002, 32, 1_000);
        run(d, 3, new double[] {0.3}, 10_000);
        assertThat(d.width()).isLessThanOrEqualTo(1_000 + 32);
    }

    @Test
    void shouldContinueIdenticallyAfterEncodeAndDecode() {
        DriftDetector original = new DriftDetector(0.002, 32, 4_096);
        run(original, 7, new double[] {0.1}, 1_000);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(original.encodedSize());
        original.encode(buf);
        assertThat(buf.remaining()).isZero();
        DriftDetector copy = DriftDetector.decode(buf.flip());
        assertThat(copy.width()).isEqualTo(original.width());
        // when both see the same change
        List<Integer> a = run(original, 8, new double[] {0.1, 0.6}, 1_000);
        List<Integer> b = run(copy, 8, new double[] {0.1, 0.6}, 1_000);
        // then
        assertThat(b).isEqualTo(a).hasSize(1);
        assertThat(copy.detections()).isEqualTo(original.detections());
        assertThat(copy.mean()).isEqualTo(original.mean());
    }
}
