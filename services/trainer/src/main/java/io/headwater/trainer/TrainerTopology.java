package io.headwater.trainer;

import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
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

    private TrainerTopology() {
    }

    public static Topology build(TrainerConfig config, MeterRegistry registry) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Topology t = new Topology();
        t.addSource("features", Serdes.String().deserializer(), topics.features().valueSerde().deserializer(),
                topics.features().name());
        // Meters are made once: gauges bind to the objects they were first registered with.
        TrainerMetrics metrics = new TrainerMetrics(registry, config.metricsMaxTasks(), config.headTypes());
        t.addProcessor("learn", () -> new LearnProcessor(config, metrics), "features");
        // One entry per task, ~0.6 MB for a 384-d LDA head: size the changelog's record limit deliberately.
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(),
                        TaskState.serde())
                .withCachingEnabled()
                .withLoggingEnabled(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(Topics.MODEL_MAX_BYTES))),
                "learn");
        t.addSink("candidates", topics.modelCandidates().name(), Serdes.String().serializer(),
                topics.modelCandidates().valueSerde().serializer(), "learn");
        return t;
    }
}
