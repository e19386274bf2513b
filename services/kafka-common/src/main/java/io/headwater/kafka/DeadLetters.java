package io.headwater.kafka;

import io.headwater.core.HeadArtifact;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Builds dead-letter records: the original key and bytes with why and where in headers, sized to
 * fit the dead-letter topic. A record too large for its topic (a multi-megabyte example whose
 * topic allows it) is stored truncated: its first bytes, with the original size and SHA-256 in
 * headers, so the dead letter itself can never be the record that blocks a stage.
 *
 * <pre>{@code
 * producer.send(DeadLetters.of(topics.examplesDlq(), record, "schema", e.getMessage(), maxBytes));
 * }</pre>
 */
public final class DeadLetters {
    /** Short machine-readable class of the error, e.g. {@code json}, {@code schema}. */
    public static final String ERROR = "headwater.error";
    /** Human-readable reason. */
    public static final String REASON = "headwater.reason";
    public static final String SOURCE_TOPIC = "headwater.source.topic";
    public static final String SOURCE_PARTITION = "headwater.source.partition";
    public static final String SOURCE_OFFSET = "headwater.source.offset";
    /** Present when the value was cut to fit: the size of the original value in bytes. */
    public static final String ORIGINAL_SIZE = "headwater.original.size";
    /** Present when the value was cut to fit: lower-case hex SHA-256 of the original value. */
    public static final String ORIGINAL_SHA256 = "headwater.original.sha256";
    /** Present when the key was cut to fit: the size of the original key in bytes. */
    public static final String ORIGINAL_KEY_SIZE = "headwater.original.key.size";
    /** Present when the original record's own headers were left out to fit: how many there were. */
    public static final String DROPPED_HEADERS = "headwater.original.headers.dropped";
    /** Reasons longer than this are cut (a reason may quote the input). */
    static final int MAX_REASON_CHARS = 1_000;
    /**
     * Room kept for what a record costs beyond its key, value and header bytes: the record and
     * batch framing (about 100 bytes) with a wide margin.
     */
    public static final int FRAMING_BYTES = 1_024;

    private DeadLetters() {
    }

    /** A dead letter: key, value and headers, ready to go to a producer or a Kafka Streams sink. */
    public record Letter(byte[] key, byte[] value, Headers headers) {
        public ProducerRecord<byte[], byte[]> toProducerRecord(Topic<byte[], byte[]> dlq) {
            return new ProducerRecord<>(dlq.name(), null, key, value, headers);
        }

        /** Bytes the record takes before framing: key, value, header names and values. */
        public int size() {
            return length(key) + length(value) + headersSize(headers);
        }
    }

    /**
     * The dead letter of a consumed record.
     *
     * @param maxBytes the most the dead-letter record may take (its topic's {@code max.message.bytes},
     *                 or the producer's {@code max.request.size} if smaller)
     */
    public static ProducerRecord<byte[], byte[]> of(Topic<byte[], byte[]> dlq, ConsumerRecord<byte[], byte[]> source,
                                                    String error, String reason, int maxBytes) {
        return letter(source.key(), source.value(), source.headers(), source.topic(), source.partition(),
                source.offset(), error, reason, maxBytes).toProducerRecord(dlq);
    }

    /**
     * The dead letter of a record known by its parts (a Kafka Streams processor's input).
     *
     * @param maxBytes see {@link #of}
     */
    public static Letter letter(byte[] key, byte[] value, Headers sourceHeaders, String topic, int partition,
                                long offset, String error, String reason, int maxBytes) {
        Objects.requireNonNull(error, "error cannot be null");
        Objects.requireNonNull(reason, "reason cannot be null");
        Headers own = new RecordHeaders();
        own.add(ERROR, utf8(error));
        own.add(REASON, utf8(reason.length() > MAX_REASON_CHARS ? reason.substring(0, MAX_REASON_CHARS) + "..."
                : reason));
        own.add(SOURCE_TOPIC, utf8(topic));
        own.add(SOURCE_PARTITION, utf8(Integer.toString(partition)));
        own.add(SOURCE_OFFSET, utf8(Long.toString(offset)));
        // Room for the size and digest headers, should they be needed, and the framing.
        int budget = maxBytes - FRAMING_BYTES - headersSize(own) - 400;
        Header[] original = sourceHeaders == null ? new Header[0] : sourceHeaders.toArray();
        int originalSize = headersSize(new RecordHeaders(original));
        Headers headers = new RecordHeaders();
        if (originalSize <= budget / 4) {
            for (Header h : original) {
                headers.add(h);
            }
            budget -= originalSize;
        } else {
            own.add(DROPPED_HEADERS, utf8(Integer.toString(original.length)));
        }
        byte[] k = key;
        if (length(key) > budget / 4) {
            k = Arrays.copyOf(key, budget / 4);
            own.add(ORIGINAL_KEY_SIZE, utf8(Integer.toString(key.length)));
        }
        budget -= length(k);
        byte[] v = value;
        if (length(value) > budget) {
            v = Arrays.copyOf(value, Math.max(0, budget));
            own.add(ORIGINAL_SIZE, utf8(Integer.toString(value.length)));
            own.add(ORIGINAL_SHA256, utf8(HeadArtifact.sha256(value)));
        }
        for (Header h : own) {
            headers.add(h);
        }
        return new Letter(k, v, headers);
    }

    private static int length(byte[] b) {
        return b == null ? 0 : b.length;
    }

    private static int headersSize(Headers headers) {
        int n = 0;
        for (Header h : headers) {
            n += h.key().getBytes(StandardCharsets.UTF_8).length + length(h.value()) + 10;
        }
        return n;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Value of a header as text, or an empty string. */
    public static String header(Headers headers, String name) {
        var h = headers.lastHeader(name);
        return h == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
    }
}
