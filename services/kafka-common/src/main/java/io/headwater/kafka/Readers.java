package io.headwater.kafka;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/** Consumer settings for readers that follow a topic from its start, as model-update consumers do. */
public final class Readers {
    private Readers() {
    }

    /**
     * A fresh consumer group (so the whole topic is read), {@code read_committed}, no offset commits,
     * and a fetch size that fits the largest model record.
     *
     * @param clientProps bootstrap servers and any pass-through client settings
     * @param groupPrefix the group id is this plus a random suffix
     */
    public static Map<String, Object> fromStart(Map<String, Object> clientProps, String groupPrefix) {
        Map<String, Object> props = new HashMap<>(clientProps);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupPrefix + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MODEL_MAX_BYTES + 1024);
        return props;
    }
}
