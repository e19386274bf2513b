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
}
