package io.headwater.registry;

import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The registry service: {@link RegistryTopology} under {@link StreamsService}.
 *
 * <pre>{@code
 * try (StreamsService registry = Registry.start(new RegistryConfig(props), meters)) { ... }
 * }</pre>
 */
public final class Registry {
    private Registry() {
    }

    public static StreamsService start(RegistryConfig config, MeterRegistry registry) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        return StreamsService.start("Registry", RegistryTopology.build(config, registry), config.raw(),
                streamsOverrides(config),
                List.of(topics.modelCandidates(), topics.modelUpdates(), topics.modelHistory()), registry);
    }

    /** The registry's own Streams settings. */
    public static Map<String, Object> streamsOverrides(RegistryConfig config) {
        return Map.of(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId(),
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitIntervalMs(),
                StreamsConfig.STATE_DIR_CONFIG, config.stateDir());
    }
}
