package io.headwater.kafka;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a follower of a topic (the model client, the update watcher) has read to, kept across
 * rebalances. Such followers commit no offsets (each reads the whole compacted topic from its
 * start), so when a broker restart or a stall makes the consumer rejoin its group, its partitions
 * would start again from the beginning and every update would arrive twice. This listener seeks
 * each reassigned partition back to where the follower was, and {@link #isNew} drops anything
 * already seen.
 *
 * <pre>{@code
 * FollowedPositions positions = new FollowedPositions(consumer);
 * consumer.subscribe(List.of(topic), positions);
 * for (ConsumerRecord<String, byte[]> r : consumer.poll(timeout)) {
 *     if (positions.isNew(r)) { ... }
 * }
 * }</pre>
 */
public final class FollowedPositions implements ConsumerRebalanceListener {
    private final KafkaConsumer<?, ?> consumer;
    private final Map<TopicPartition, Long> next = new ConcurrentHashMap<>();

    public FollowedPositions(KafkaConsumer<?, ?> consumer) {
        this.consumer = consumer;
    }

    /** True the first time a record is seen; false for a record read again after a rejoin. */
    public boolean isNew(ConsumerRecord<?, ?> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        Long n = next.get(tp);
        if (n != null && r.offset() < n) {
            return false;
        }
        next.put(tp, r.offset() + 1);
        return true;
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            Long n = next.get(tp);
            if (n != null) {
                consumer.seek(tp, n);
            }
        }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        // Positions stay: the partitions may come back.
    }
}
