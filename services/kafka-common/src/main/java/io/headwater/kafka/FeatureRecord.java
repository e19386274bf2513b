package io.headwater.kafka;

import io.headwater.core.BadRecordException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One embedded, labeled example on the {@code features} topic. Binary layout v1 is documented in
 * {@code schemas/features-v1.md}.
 *
 * @param exampleId       the example's id as the producer sent it
 * @param label           its label
 * @param backboneId      the backbone that made the embedding
 * @param backboneSha256  lower-case hex SHA-256 of that backbone's model file
 * @param eventTimeMs     the example's event time in epoch milliseconds, or -1 when it had none
 * @param sourceTopic     topic of the example
 * @param sourcePartition partition of the example
 * @param sourceOffset    offset of the example
 * @param embedding       the pooled, normalised embedding
 */
public record FeatureRecord(String exampleId, String label, String backboneId, String backboneSha256,
                            long eventTimeMs, String sourceTopic, int sourcePartition, long sourceOffset,
                            float[] embedding) {
    /**
     * The largest magnitude an embedding value may have. Backbones give L2-normalised vectors; a
     * value far beyond this overflows an sgd head's squared gradients in float32 and turns its
     * weights to NaN for good, so it is refused like a NaN is.
     */
    public static final float MAX_ABS_VALUE = 1e9f;
    private static final byte MAGIC_0 = 'H';
    private static final byte MAGIC_1 = 'F';
    private static final byte VERSION = 1;
    /**
     * Big-endian floats straight from and into the record's bytes: a {@code FloatBuffer} view
     * copies them with a byte swap per value through {@code Unsafe.copySwapMemory}, which the
     * trainer's profile showed at about 5 % of its stream thread.
     */
    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.BIG_ENDIAN);

    public FeatureRecord {
        Objects.requireNonNull(exampleId, "exampleId cannot be null");
        Objects.requireNonNull(label, "label cannot be null");
        Objects.requireNonNull(backboneId, "backboneId cannot be null");
        Objects.requireNonNull(backboneSha256, "backboneSha256 cannot be null");
        Objects.requireNonNull(sourceTopic, "sourceTopic cannot be null");
        Objects.requireNonNull(embedding, "embedding cannot be null");
        if (backboneSha256.length() != 64) {
            throw new IllegalArgumentException("backboneSha256 must be 64 hex characters, found " + backboneSha256);
        }
    }

    public byte[] encode() {
        byte[] id = exampleId.getBytes(StandardCharsets.UTF_8);
        byte[] lab = label.getBytes(StandardCharsets.UTF_8);
        byte[] bb = backboneId.getBytes(StandardCharsets.UTF_8);
        byte[] st = sourceTopic.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(3 + 2 + id.length + 2 + lab.length + 2 + bb.length + 32 + 8
                + 2 + st.length + 4 + 8 + 4 + 4 * embedding.length);
        buf.put(MAGIC_0).put(MAGIC_1).put(VERSION);
        putString(buf, id);
        putString(buf, lab);
        putString(buf, bb);
        buf.put(sha256Bytes(backboneSha256));
        buf.putLong(eventTimeMs);
        putString(buf, st);
        buf.putInt(sourcePartition).putLong(sourceOffset).putInt(embedding.length);
        byte[] out = buf.array();
        for (int i = 0, at = buf.position(); i < embedding.length; i++, at += 4) {
            FLOAT.set(out, at, embedding[i]);
        }
        return out;
    }

    /** The last backbone hash parsed: every record of an extractor carries the same one. */
    private static volatile Object[] lastSha = {"", new byte[0]};

    private static byte[] sha256Bytes(String hex) {
        Object[] last = lastSha;
        if (last[0].equals(hex)) {
            return (byte[]) last[1];
        }
        byte[] b = HexFormat.of().parseHex(hex);
        lastSha = new Object[] {hex, b};
        return b;
    }

    private static void putString(ByteBuffer buf, byte[] b) {
        if (b.length > 0xFFFF) {
            throw new BadRecordException("string of " + b.length + " bytes does not fit a feature record field");
        }
        buf.putShort((short) b.length).put(b);
    }

    private static String getString(ByteBuffer buf) {
        byte[] b = new byte[Short.toUnsignedInt(buf.getShort())];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    public static FeatureRecord decode(byte[] bytes) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            if (buf.get() != MAGIC_0 || buf.get() != MAGIC_1) {
                throw new BadRecordException("not a feature record (bad magic bytes)");
            }
            byte version = buf.get();
            if (version != VERSION) {
                throw new BadRecordException("unsupported feature record version " + version);
            }
            String id = getString(buf);
            String label = getString(buf);
            String backbone = getString(buf);
            byte[] sha = new byte[32];
            buf.get(sha);
            long eventTime = buf.getLong();
            String topic = getString(buf);
            int partition = buf.getInt();
            long offset = buf.getLong();
            int dim = buf.getInt();
            if (dim < 0 || dim * 4L != buf.remaining()) {
                throw new BadRecordException("feature record says " + dim + " dimensions but has "
                        + buf.remaining() + " bytes left");
            }
            if (dim == 0) {
                throw new BadRecordException("feature record has an empty embedding");
            }
            float[] embedding = new float[dim];
            for (int i = 0, at = buf.position(); i < dim; i++, at += 4) {
                embedding[i] = (float) FLOAT.get(bytes, at);
            }
            for (int i = 0; i < dim; i++) {
                if (!(Math.abs(embedding[i]) <= MAX_ABS_VALUE)) {
                    throw new NonFinite("embedding value " + i + " is " + embedding[i] + ", not a finite number within "
                            + "+-" + MAX_ABS_VALUE);
                }
            }
            return new FeatureRecord(id, label, backbone, HexFormat.of().formatHex(sha), eventTime, topic,
                    partition, offset, embedding);
        } catch (BufferUnderflowException e) {
            throw new BadRecordException("truncated feature record of " + bytes.length + " bytes", e);
        }
    }

    /** A feature record whose embedding holds a NaN, an infinity or a value beyond {@link #MAX_ABS_VALUE}. */
    public static final class NonFinite extends BadRecordException {
        private static final long serialVersionUID = 1L;

        NonFinite(String message) {
            super(message);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureRecord f && f.exampleId.equals(exampleId) && f.label.equals(label)
                && f.backboneId.equals(backboneId) && f.backboneSha256.equals(backboneSha256)
                && f.eventTimeMs == eventTimeMs && f.sourceTopic.equals(sourceTopic)
                && f.sourcePartition == sourcePartition && f.sourceOffset == sourceOffset
                && Arrays.equals(f.embedding, embedding);
    }

    @Override
    public int hashCode() {
        return Objects.hash(exampleId, label, backboneId, sourceTopic, sourcePartition, sourceOffset,
                Arrays.hashCode(embedding));
    }

    @Override
    public String toString() {
        return "FeatureRecord[" + exampleId + ", " + label + ", " + backboneId + ", dim=" + embedding.length
                + ", source=" + sourceTopic + "-" + sourcePartition + "@" + sourceOffset + "]";
    }

    /** Serde for the binary layout. */
    public static final class FeatureSerde implements Serde<FeatureRecord> {
        @Override
        public Serializer<FeatureRecord> serializer() {
            return (topic, record) -> record == null ? null : record.encode();
        }

        @Override
        public Deserializer<FeatureRecord> deserializer() {
            return (topic, bytes) -> {
                if (bytes == null) {
                    return null;
                }
                try {
                    return decode(bytes);
                } catch (BadRecordException e) {
                    throw new SerializationException("Bad feature record on " + topic + ": " + e.getMessage(), e);
                }
            };
        }
    }
}
