package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class WindowedAccuracyTest {

    @Test
    void shouldCountOnlyTheLastWindowOfPredictions() {
        WindowedAccuracy acc = new WindowedAccuracy(4);
        assertThat(acc.accuracy()).isZero();
        acc.record(false);
        acc.record(false);
        acc.record(true);
        assertThat(acc.accuracy()).isEqualTo(1 / 3.0);
        acc.record(true);
        acc.record(true);
        acc.record(true);
        assertThat(acc.count()).isEqualTo(4);
        assertThat(acc.accuracy()).isEqualTo(1.0);
    }

    @Test
    void shouldRoundTrip() {
        WindowedAccuracy acc = new WindowedAccuracy(5);
        for (int i = 0; i < 7; i++) {
            acc.record(i % 3 == 0);
        }
        ByteBuffer buf = ByteBuffer.allocate(acc.encodedSize());
        acc.encode(buf);
        buf.flip();
        WindowedAccuracy copy = WindowedAccuracy.decode(buf);
        assertThat(copy.accuracy()).isEqualTo(acc.accuracy());
        copy.record(false);
        acc.record(false);
        assertThat(copy.accuracy()).isEqualTo(acc.accuracy());
    }
}
