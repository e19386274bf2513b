package io.headwater.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Builds dead-letter records: the original key and bytes, untouched, with why and where in headers.
 *
 * <pre>{@code
 * producer.send(DeadLetters.of(topics.examplesDlq(), record, "schema", e.getMessage()));
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

    private DeadLetters() {
    }

    public static ProducerRecord<byte[], byte[]> of(Topic<byte[], byte[]> dlq, ConsumerRecord<byte[], byte[]> source,
                                                    String error, String reason) {
        Headers headers = new RecordHeaders(source.headers().toArray());
        headers.add(ERROR, utf8(error));
        headers.add(REASON, utf8(reason));
        headers.add(SOURCE_TOPIC, utf8(source.topic()));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(source.partition())));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(source.offset())));
        return new ProducerRecord<>(dlq.name(), null, source.key(), source.value(), headers);
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
