package io.headwater.trainer;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topic;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
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

    /**
     * Per-partition fetch of the trainer's input consumer unless the operator set one (plain,
     * {@code consumer.} or {@code main.consumer.}): the client's 1 MB is a few hundred feature
     * records of 1.6 KB (384-d), and the stream thread waited for the next fetch each time. The same
     * as the extractor's.
     */
    public static final int FETCH_BYTES_PER_PARTITION = 8 * 1024 * 1024;

    /** The trainer's own Streams settings. */
    public static Map<String, Object> streamsOverrides(TrainerConfig config) {
        Map<String, Object> overrides = new HashMap<>(Map.of(StreamsConfig.APPLICATION_ID_CONFIG,
                config.applicationId(),
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitIntervalMs(),
                StreamsConfig.STATE_DIR_CONFIG, config.stateDir()));
        String fetch = ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG;
        if (!StreamsService.operatorSet(HeadwaterConfigs.clientProperties(config.raw()), fetch,
                StreamsConfig.CONSUMER_PREFIX, StreamsConfig.MAIN_CONSUMER_PREFIX)) {
            overrides.put(StreamsConfig.mainConsumerPrefix(fetch), FETCH_BYTES_PER_PARTITION);
        }
        return overrides;
    }
}
