package io.headwater.registry;

import io.headwater.kafka.Json;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.state.Stores;

/**
 * The registry as a pure function of its config:
 * {@code model-candidates + registry-commands -> decide -> model-updates + model-history}.
 * Both inputs are keyed by task and read as bytes, so a malformed one is rejected with its reason,
 * not a crash. Four stores, all keyed by task (and so queryable where the task lives): the current
 * version, every version ({@code task@00000000000000000001}), every decision as on
 * {@code model-history} but without the update it published ({@code task@sequence}, zero-padded the
 * same way), and the task's control (paused, pinned, decision count).
 */
public final class RegistryTopology {
    public static final String CURRENT_STORE = "current-version";
    public static final String VERSIONS_STORE = "versions";
    public static final String CONTROL_STORE = "task-control";
    public static final String DECISIONS_STORE = "decisions";
    static final String UPDATES_SINK = "model-updates";
    static final String HISTORY_SINK = "model-history";
    static final String DLQ_SINK = "dead-letters";

    private RegistryTopology() {
    }

    /** Key of a version in {@link #VERSIONS_STORE}: zero-padded so a prefix scan returns versions in order. */
    public static String versionKey(String task, long version) {
        return String.format("%s@%020d", task, version);
    }

    public static Topology build(RegistryConfig config, MeterRegistry registry) {
        return build(config, registry, Topics.MODEL_MAX_BYTES);
    }

    /** @param dlqMaxBytes the most a dead letter may take: {@code registry.dlq}'s record limit on the cluster */
    public static Topology build(RegistryConfig config, MeterRegistry registry, int dlqMaxBytes) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        AtomicLong lastPublished = new AtomicLong();
        Gauge.builder("headwater.registry.last.published", lastPublished, AtomicLong::get)
                .description("When this instance last published a version (Unix time)").baseUnit("seconds")
                .register(registry);
        Topology t = new Topology();
        t.addSource("candidates", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(),
                topics.modelCandidates().name());
        t.addSource("commands", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(),
                topics.registryCommands().name());
        t.addProcessor("decide", () -> new RegistryProcessor(config, registry, lastPublished, dlqMaxBytes), "candidates", "commands");
        // Versions carry whole heads: size their changelogs' record limit like the model topics'.
        Map<String, String> modelSized = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(Topics.MODEL_MAX_BYTES));
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CURRENT_STORE), Serdes.String(),
                Json.serde(ModelUpdate.class)).withLoggingEnabled(modelSized), "decide");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(VERSIONS_STORE), Serdes.String(),
                Json.serde(ModelUpdate.class)).withLoggingEnabled(modelSized), "decide");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DECISIONS_STORE), Serdes.String(),
                Json.serde(ModelDecision.class)), "decide");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CONTROL_STORE), Serdes.String(),
                Json.serde(TaskControl.class)), "decide");
        t.addSink(UPDATES_SINK, topics.modelUpdates().name(), Serdes.String().serializer(),
                Serdes.ByteArray().serializer(), "decide");
        // History keys are task@sequence (so compaction keeps every decision) but are partitioned by
        // task alone, as on model-updates: one task's history stays in order, in one partition.
        StreamPartitioner<String, byte[]> byTask = (topic, key, value, partitions) -> {
            String task = key.substring(0, key.lastIndexOf('@'));
            return Optional.of(Set.of(Utils.toPositive(Utils.murmur2(task.getBytes(StandardCharsets.UTF_8))) % partitions));
        };
        t.addSink(HISTORY_SINK, topics.modelHistory().name(), Serdes.String().serializer(),
                Serdes.ByteArray().serializer(), byTask, "decide");
        t.addSink(DLQ_SINK, topics.registryDlq().name(), Serdes.String().serializer(), Serdes.ByteArray().serializer(),
                "decide");
        return t;
    }
}
