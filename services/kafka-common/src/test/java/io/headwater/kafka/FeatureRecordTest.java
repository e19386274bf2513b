package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.BadRecordException;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class FeatureRecordTest {
    static FeatureRecord sample() {
        return new FeatureRecord("ex-1", "spam", "all-minilm-l6-v2-q", "0123456789abcdef".repeat(4), 1234L,
                "headwater.examples", 2, 99L, new float[] {0.5f, -1f, Float.MIN_VALUE});
    }

    @Test
    void shouldRoundTripThroughTheBinaryLayout() {
        FeatureRecord f = sample();
        assertThat(FeatureRecord.decode(f.encode())).isEqualTo(f);
        var serde = new FeatureRecord.FeatureSerde();
        assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", f))).isEqualTo(f);
    }

    @Test
    void shouldRejectTruncatedOrForeignBytes() {
        byte[] bytes = sample().encode();
        assertThatThrownBy(() -> FeatureRecord.decode(Arrays.copyOf(bytes, bytes.length - 2)))
                .isInstanceOf(BadRecordException.class).hasMessageContaining("3 dimensions");
        assertThatThrownBy(() -> FeatureRecord.decode(Arrays.copyOf(bytes, 10)))
                .isInstanceOf(BadRecordException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> new FeatureRecord.FeatureSerde().deserializer().deserialize("t", new byte[] {1, 2, 3}))
                .isInstanceOf(SerializationException.class).hasMessageContaining("bad magic");
    }
}
