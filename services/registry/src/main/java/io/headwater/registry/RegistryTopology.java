package io.headwater.registry;

import io.headwater.kafka.Json;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The registry as a pure function of its config:
 * {@code model-candidates -> validate, number -> model-updates + model-history}.
 * Candidates are read as bytes so that a malformed one is rejected with its reason, not a crash.
 */
public final class RegistryTopology {
    public static final String CURRENT_STORE = "current-version";
    static final String UPDATES_SINK = "model-updates";
    static final String HISTORY_SINK = "model-history";

    private RegistryTopology() {
    }

    public static Topology build(RegistryConfig config, MeterRegistry registry) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Topology t = new Topology();
        t.addSource("candidates", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(),
                topics.modelCandidates().name());
        t.addProcessor("publish", () -> new PublishProcessor(registry), "candidates");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CURRENT_STORE), Serdes.String(),
                Json.serde(ModelUpdate.class)), "publish");
        t.addSink(UPDATES_SINK, topics.modelUpdates().name(), Serdes.String().serializer(),
                topics.modelUpdates().valueSerde().serializer(), "publish");
        // History keys are task@version (so compaction keeps every version) but are partitioned by
        // task alone, as on model-updates: one task's history stays in order, in one partition.
        StreamPartitioner<String, ModelUpdate> byTask = (topic, key, value, partitions) ->
                Optional.of(Set.of(Utils.toPositive(Utils.murmur2(value.task().getBytes(StandardCharsets.UTF_8)))
                        % partitions));
        t.addSink(HISTORY_SINK, topics.modelHistory().name(), Serdes.String().serializer(),
                topics.modelHistory().valueSerde().serializer(), byTask, "publish");
        return t;
    }
}
