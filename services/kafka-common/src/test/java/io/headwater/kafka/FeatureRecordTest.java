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
    void embeddingValuesAreBigEndianFloat32AtTheEndAsSchemasFeaturesV1Says() {
        byte[] bytes = sample().encode();
        byte[] tail = Arrays.copyOfRange(bytes, bytes.length - 12, bytes.length);
        // 0.5f, -1f and the smallest subnormal, most significant byte first.
        assertThat(tail).containsExactly(0x3f, 0x00, 0x00, 0x00, 0xbf, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01);
        assertThat(java.nio.ByteBuffer.wrap(bytes, bytes.length - 16, 4).getInt()).isEqualTo(3);
    }

    @Test
    void shouldRefuseANonFiniteValueNamingItsIndex() {
        byte[] bytes = sample().encode();
        // -1f becomes -infinity: ff80 0000.
        bytes[bytes.length - 8] = (byte) 0xff;
        assertThatThrownBy(() -> FeatureRecord.decode(bytes)).isInstanceOf(FeatureRecord.NonFinite.class)
                .hasMessageContaining("value 1 is -Infinity");
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
