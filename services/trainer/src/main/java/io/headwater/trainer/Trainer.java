package io.headwater.trainer;

import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topic;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The trainer service: {@link TrainerTopology} under {@link StreamsService}.
 *
 * <pre>{@code
 * try (StreamsService trainer = Trainer.start(new TrainerConfig(props), registry)) { ... }
 * }</pre>
 */
public final class Trainer {
    private Trainer() {
    }

    public static StreamsService start(TrainerConfig config, MeterRegistry registry) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        List<Topic<?, ?>> needed = List.of(topics.features(), topics.featuresDlq(), topics.modelCandidates());
        Map<String, Object> overrides = new HashMap<>(streamsOverrides(config));
        overrides.putAll(StreamsService.staticMembership(config.instanceId()));
        return StreamsService.start("trainer", admin -> {
            Topics.ensure(admin, needed, config.topicSettings());
            return TrainerTopology.build(config, registry, Topics.maxMessageBytes(admin, topics.featuresDlq()));
        }, config.raw(), overrides, registry);
    }

    /** The trainer's own Streams settings. */
    public static Map<String, Object> streamsOverrides(TrainerConfig config) {
        return Map.of(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId(),
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitIntervalMs(),
                StreamsConfig.STATE_DIR_CONFIG, config.stateDir());
    }
}
