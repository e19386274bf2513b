package io.headwater.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headwater.core.FatalException;
import io.headwater.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends data-file lines to {@code examples} under a task: each JSON object gets {@code "task"} set
 * and the task as key. A line that is not a JSON object is sent unchanged, so the extractor
 * dead-letters it with a reason rather than the producer dropping it silently.
 */
public final class ExampleProducer implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final Topics topics;
    private Future<RecordMetadata> last;

    public ExampleProducer(Map<String, Object> clientProps, Topics topics) {
        Map<String, Object> props = new HashMap<>(clientProps);
        props.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
        props.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 10);
        props.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        this.topics = topics;
    }

    /** Sends one line under the task; returns true when it was a JSON object. */
    public boolean send(String task, Datasets.Line line) {
        return send(task, line, (metadata, error) -> { });
    }

    /**
     * Sends one line under the task and calls {@code onAck} once the cluster acknowledged it (all
     * in-sync replicas have it) or the send failed for good; returns true when it was a JSON object.
     */
    public boolean send(String task, Datasets.Line line, Callback onAck) {
        byte[] value;
        if (line.json().isPresent()) {
            ObjectNode node = ((ObjectNode) line.json().get().deepCopy()).put("task", task);
            value = node.toString().getBytes(StandardCharsets.UTF_8);
        } else {
            value = line.raw().getBytes(StandardCharsets.UTF_8);
        }
        last = producer.send(new ProducerRecord<>(topics.examples().name(), task, value), onAck);
        return line.json().isPresent();
    }

    /** Sends raw bytes under a key, as a misbehaving producer might. */
    public void sendRaw(String key, byte[] value) {
        last = producer.send(new ProducerRecord<>(topics.examples().name(), key, value));
    }

    /** Waits until everything sent is acknowledged; a failed send stops with its cause. */
    public void flush() {
        producer.flush();
        if (last != null) {
            try {
                last.get();
            } catch (ExecutionException e) {
                throw new FatalException("Failed to send examples to " + topics.examples().name() + ": "
                        + e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
