package io.headwater.tests;

import io.headwater.kafka.Readers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.Deserializer;

/** Reads a whole topic from the beginning with a fresh consumer group, for assertions. */
final class TopicReader {
    private TopicReader() {
    }

    /** Everything committed (read_committed) until the topic has been quiet for three seconds. */
    static <K, V> List<ConsumerRecord<K, V>> readAll(Map<String, Object> clientProps, String topic,
                                                     Deserializer<K> keys, Deserializer<V> values) {
        return readAll(clientProps, topic, keys, values, "read_committed");
    }

    static <K, V> List<ConsumerRecord<K, V>> readAll(Map<String, Object> clientProps, String topic,
                                                     Deserializer<K> keys, Deserializer<V> values, String isolation) {
        return read(clientProps, topic, keys, values, isolation, Integer.MAX_VALUE, Duration.ofMinutes(2));
    }

    /**
     * Reads until {@code atLeast} records arrived (or the topic was quiet for three seconds, or the
     * timeout passed), then for a further quiet second so that extra records would be seen too.
     */
    static <K, V> List<ConsumerRecord<K, V>> read(Map<String, Object> clientProps, String topic, Deserializer<K> keys,
                                                  Deserializer<V> values, String isolation, int atLeast,
                                                  Duration timeout) {
        Map<String, Object> props = Readers.fromStart(clientProps, "test-reader-");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<K, V> c = new KafkaConsumer<>(props, keys, values)) {
            c.subscribe(List.of(topic));
            int emptyPolls = 0;
            while (System.nanoTime() < deadline) {
                var records = c.poll(Duration.ofMillis(500));
                emptyPolls = records.isEmpty() ? emptyPolls + 1 : 0;
                records.forEach(out::add);
                boolean enough = out.size() >= atLeast;
                if ((enough && emptyPolls >= 2) || (atLeast == Integer.MAX_VALUE && emptyPolls >= 6)) {
                    break;
                }
            }
        }
        return out;
    }
}
