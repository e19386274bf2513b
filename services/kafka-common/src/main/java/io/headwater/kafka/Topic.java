package io.headwater.kafka;

import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * A topic with its key and value serdes and the configs it is created with.
 *
 * @param name        full name, prefix included
 * @param keySerde    serde of keys
 * @param valueSerde  serde of values
 * @param configs     topic-level configs used when Headwater creates it (cleanup policy, size limits)
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde, Map<String, String> configs) {
    public Topic {
        Objects.requireNonNull(name, "name cannot be null");
        Objects.requireNonNull(keySerde, "keySerde cannot be null");
        Objects.requireNonNull(valueSerde, "valueSerde cannot be null");
        configs = Map.copyOf(configs);
    }

    @Override
    public String toString() {
        return name;
    }
}
