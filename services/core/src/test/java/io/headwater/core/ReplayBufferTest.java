package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ReplayBufferTest {

    private static float[] vector(int value) {
        return new float[] {value, -value};
    }

    @Test
    void shouldKeepEverythingUntilFullThenAtMostTheCapacity() {
        ReplayBuffer replay = new ReplayBuffer(100, 2, 7);
        for (int i = 0; i < 50; i++) {
            replay.offer(vector(i), i % 3);
        }
        assertThat(replay.size()).isEqualTo(50);
        assertThat(replay.embedding(49)).containsExactly(49, -49);
        assertThat(replay.label(49)).isEqualTo(49 % 3);
        for (int i = 50; i < 10_000; i++) {
            replay.offer(vector(i), i % 3);
        }
        assertThat(replay.size()).isEqualTo(100);
        assertThat(replay.seen()).isEqualTo(10_000);
        assertThat(replay.memoryBytes()).isEqualTo(ReplayBuffer.memoryBytesAtCapacity(100, 2));
    }

    @Test
    void shouldKeepAUniformSampleOfTheWholeStream() {
        // given: 100 slots over 20,000 offers, repeated with 200 seeds
        int late = 0;
        int runs = 200;
        for (int seed = 0; seed < runs; seed++) {
            ReplayBuffer replay = new ReplayBuffer(100, 2, seed);
            for (int i = 0; i < 20_000; i++) {
                replay.offer(vector(i), 0);
            }
            for (int k = 0; k < replay.size(); k++) {
                if (replay.embedding(k)[0] >= 10_000) {
                    late++;
                }
            }
        }
        // then: half of what is kept comes from the second half of the stream
        assertThat(late / (100.0 * runs)).isCloseTo(0.5, within(0.02));
    }

    @Test
    void shouldGiveTheSameBufferAndSamplesForTheSameSeedAlsoAfterARoundTrip() {
        ReplayBuffer a = new ReplayBuffer(10, 2, 3);
        ReplayBuffer b = new ReplayBuffer(10, 2, 3);
        for (int i = 0; i < 500; i++) {
            a.offer(vector(i), i);
            b.offer(vector(i), i);
        }
        ByteBuffer buf = ByteBuffer.allocate(a.encodedSize());
        a.encode(buf);
        assertThat(buf.hasRemaining()).isFalse();
        ReplayBuffer c = ReplayBuffer.decode(buf.flip());
        for (int i = 500; i < 600; i++) {
            a.offer(vector(i), i);
            c.offer(vector(i), i);
        }
        b.offer(vector(500), 500);
        assertThat(c.sample(20)).containsExactly(a.sample(20));
        for (int k = 0; k < a.size(); k++) {
            assertThat(c.embedding(k)).containsExactly(a.embedding(k));
            assertThat(c.label(k)).isEqualTo(a.label(k));
        }
    }

    @Test
    void shouldSampleNothingWhenEmptyAndRejectAWrongDimension() {
        ReplayBuffer replay = new ReplayBuffer(10, 2, 1);
        assertThat(replay.sample(5)).isEmpty();
        assertThatThrownBy(() -> replay.offer(new float[3], 0)).isInstanceOf(BadRecordException.class)
                .hasMessage("embedding has 3 values, the replay buffer holds 2");
    }
}
