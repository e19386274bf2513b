package io.headwater.trainer;

import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The trainer as a pure function of its config: {@code features -> learn (state per task) -> model-candidates}.
 *
 * <pre>{@code
 * Topology t = TrainerTopology.build(config, registry);
 * new KafkaStreams(t, Trainer.streamsProperties(config)).start();
 * }</pre>
 */
public final class TrainerTopology {
    public static final String STATE_STORE = "task-state";
    /** Example ids learned per task, kept for {@code trainer.dedup.retention.ms}. */
    public static final String SEEN_STORE = "seen-ids";
    static final String CANDIDATES_SINK = "candidates";
    static final String DLQ_SINK = "dead-letters";

    private TrainerTopology() {
    }

    public static Topology build(TrainerConfig config, MeterRegistry registry) {
        return build(config, registry, Topics.DLQ_MAX_BYTES);
    }

    /**
     * @param dlqMaxBytes the most a dead letter may take: {@code features.dlq}'s record limit on the cluster
     */
    public static Topology build(TrainerConfig config, MeterRegistry registry, int dlqMaxBytes) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Topology t = new Topology();
        // Read as bytes: a record that cannot be decoded is the processor's to dead-letter, with its reason.
        t.addSource("features", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(),
                topics.features().name());
        // Meters are made once: gauges bind to the objects they were first registered with.
        TrainerMetrics metrics = new TrainerMetrics(registry, config.metricsMaxTasks(), config.headTypes());
        LiveStateStore.Registry stores = new LiveStateStore.Registry(metrics.stateBytes("whole"),
                metrics.stateBytes("delta"));
        t.addProcessor("learn", () -> new LearnProcessor(config, metrics, dlqMaxBytes, stores), "features");
        // One entry per task and head, ~0.6 MB for a 384-d LDA head, written once per commit when it
        // changed (or a delta of it, smaller): size the changelog's record limit deliberately.
        t.addStateStore(LiveStateStore.persistent(STATE_STORE,
                Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(Topics.MODEL_MAX_BYTES)), stores), "learn");
        if (config.dedupRetentionMs() > 0) {
            Duration retention = Duration.ofMillis(config.dedupRetentionMs());
            t.addStateStore(Stores.windowStoreBuilder(Stores.persistentWindowStore(SEEN_STORE, retention, retention,
                    false), Serdes.String(), Serdes.Long()), "learn");
        }
        t.addSink(CANDIDATES_SINK, topics.modelCandidates().name(), Serdes.String().serializer(),
                topics.modelCandidates().valueSerde().serializer(), "learn");
        t.addSink(DLQ_SINK, topics.featuresDlq().name(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), "learn");
        return t;
    }
}
