package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LdaStatisticsTest {
    static byte[] encoded(LdaStatistics s) {
        ByteBuffer buf = ByteBuffer.allocate(s.encodedSize());
        s.encode(buf);
        return buf.array();
    }

    /**
     * Examples wait in a buffer before they reach the second moment; whenever the buffer is
     * emptied (full, a solve, an encoding, a merge, forgetting), the statistics must be the same to
     * the bit as when every example is added at once: kill-and-restore runs depend on it.
     */
    @Test
    void whenPendingExamplesReachTheSecondMomentChangesNoBit() {
        int d = 19;
        Random rnd = new Random(5);
        LdaStatistics buffered = new LdaStatistics(d);
        LdaStatistics eager = new LdaStatistics(d);
        LdaStatistics solvedOften = new LdaStatistics(d);
        for (int n = 0; n < 3 * LdaStatistics.PENDING + 5; n++) {
            float[] x = new float[d];
            for (int i = 0; i < d; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            String label = "c" + rnd.nextInt(3);
            buffered.add(x, label);
            eager.add(x, label);
            encoded(eager);
            solvedOften.add(x, label);
            if (n % 7 == 6) {
                solvedOften.solve(0.1);
            }
            if (n == 25) {
                buffered.forget(0.5);
                eager.forget(0.5);
                solvedOften.forget(0.5);
            }
        }
        byte[] expected = encoded(eager);
        LdaStatistics copy = buffered.copy();
        assertThat(encoded(solvedOften)).isEqualTo(expected);
        assertThat(encoded(copy)).isEqualTo(expected);
        assertThat(encoded(buffered)).isEqualTo(expected);
        assertThat(LdaStatistics.decode(ByteBuffer.wrap(expected)).solve(0.1).encode())
                .isEqualTo(eager.solve(0.1).encode());
    }

    /** A solve reuses its thread's covariance triangle; heads of another width in between must not leak into it. */
    @Test
    void solvesOfHeadsOfOtherWidthsOnTheSameThreadChangeNoBit() {
        Random rnd = new Random(11);
        LdaStatistics narrow = new LdaStatistics(7);
        LdaStatistics wide = new LdaStatistics(12);
        for (int n = 0; n < 40; n++) {
            float[] x = new float[12];
            for (int i = 0; i < 12; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            wide.add(x, "w" + (n % 3));
            narrow.add(java.util.Arrays.copyOf(x, 7), "n" + (n % 2));
        }
        byte[] first = narrow.solve(0.2).encode();
        byte[] wideFirst = wide.solve(0.2).encode();
        assertThat(narrow.solve(0.2).encode()).isEqualTo(first);
        assertThat(wide.solve(0.2).encode()).isEqualTo(wideFirst);
        // And the same as on a thread that never solved anything else.
        byte[][] elsewhere = new byte[1][];
        Thread t = new Thread(() -> elsewhere[0] = LdaStatistics.decode(ByteBuffer.wrap(encoded(narrow))).solve(0.2)
                .encode());
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        assertThat(elsewhere[0]).isEqualTo(first);
    }
}
