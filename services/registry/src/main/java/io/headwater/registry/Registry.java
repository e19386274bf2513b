package io.headwater.registry;

import io.headwater.core.FatalException;
import io.headwater.kafka.StageHealth;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topic;
import io.headwater.kafka.TopicSettings;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;

/**
 * The registry service: {@link RegistryTopology} under {@link StreamsService}, plus its HTTP API
 * ({@link RegistryApi}) unless {@code registry.api.port} is -1. It refuses to start when its two
 * inputs, {@code model-candidates} and {@code registry-commands}, differ in partition count.
 *
 * <pre>{@code
 * try (Registry registry = Registry.start(new RegistryConfig(props), meters)) {
 *     System.out.println("API on port " + registry.apiPort().orElseThrow());
 * }
 * }</pre>
 */
public final class Registry implements AutoCloseable {
    private final StreamsService streams;
    private final Optional<RegistryApi> api;

    private Registry(StreamsService streams, Optional<RegistryApi> api) {
        this.streams = streams;
        this.api = api;
    }

    public static Registry start(RegistryConfig config, MeterRegistry registry) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        List<Topic<?, ?>> needed = List.of(topics.modelCandidates(), topics.registryCommands(), topics.modelUpdates(),
                topics.modelHistory(), topics.registryDlq());
        Optional<RegistryApi> api = Optional.empty();
        Map<String, Object> overrides = new HashMap<>(streamsOverrides(config));
        HostInfo advertised = null;
        if (config.apiPort() >= 0) {
            try {
                api = Optional.of(new RegistryApi(config));
            } catch (IOException e) {
                throw new FatalException("Failed to start the registry API on port " + config.apiPort() + ": "
                        + e.getMessage(), e);
            }
            advertised = config.advertisedHost().isEmpty() ? new HostInfo("localhost", api.get().port())
                    : HostInfo.buildFromEndpoint(config.advertisedHost());
            overrides.put(StreamsConfig.APPLICATION_SERVER_CONFIG, advertised.host() + ":" + advertised.port());
        }
        overrides.putAll(StreamsService.staticMembership(config.instanceId()));
        StreamsService s;
        try {
            s = startStreams(config, registry, topics, needed, overrides);
        } catch (RuntimeException e) {
            api.ifPresent(RegistryApi::close);
            throw e;
        }
        if (api.isPresent()) {
            api.get().start(s.streams(), advertised);
        }
        return new Registry(s, api);
    }

    private static StreamsService startStreams(RegistryConfig config, MeterRegistry registry, Topics topics,
                                               List<Topic<?, ?>> needed, Map<String, Object> overrides) {
        return StreamsService.start("registry", admin -> {
            ensureCoPartitioned(admin, topics.modelCandidates(), topics.registryCommands(), config.topicSettings());
            Topics.ensure(admin, needed, config.topicSettings());
            return RegistryTopology.build(config, registry,
                    Math.min(Topics.MODEL_MAX_BYTES, Topics.maxMessageBytes(admin, topics.registryDlq())));
        }, config.raw(), overrides, registry);
    }

    /**
     * The registry reads candidates and operators' commands into one processor with one set of
     * stores per partition, so a task's commands must land in the partition that holds the task:
     * both topics need the same partition count. Where one of them is missing it is created with the
     * other's count; where both exist with different counts the registry refuses to start.
     */
    static void ensureCoPartitioned(Admin admin, Topic<?, ?> candidates, Topic<?, ?> commands, TopicSettings settings) {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<Topic<?, ?>> present = Stream.of(candidates, commands).filter(t -> existing.contains(t.name())).toList();
            if (present.isEmpty()) {
                return;
            }
            Map<String, TopicDescription> described = admin.describeTopics(
                    present.stream().map(Topic::name).toList()).allTopicNames().get();
            int wanted = described.get(present.get(0).name()).partitions().size();
            if (present.size() == 1) {
                Topic<?, ?> missing = present.get(0) == candidates ? commands : candidates;
                Topics.ensure(admin, List.of(missing),
                        new TopicSettings(wanted, settings.replicationFactor(), settings.minInsyncReplicas()));
                return;
            }
            int other = described.get(commands.name()).partitions().size();
            if (described.get(candidates.name()).partitions().size() != other) {
                throw new FatalException(candidates.name() + " has " + wanted + " partitions and " + commands.name()
                        + " has " + other + ": the registry needs the same number on both, since it applies a task's "
                        + "commands in the partition that holds the task. Recreate " + commands.name() + " with "
                        + wanted + " partitions (it holds only operators' commands; the applied ones are in model-history)");
            }
        } catch (ExecutionException e) {
            throw new FatalException("Failed to check the partitions of " + candidates.name() + " and " + commands.name()
                    + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while checking the partitions of " + candidates.name(), e);
        }
    }

    /** The registry's own Streams settings. */
    public static Map<String, Object> streamsOverrides(RegistryConfig config) {
        return Map.of(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId(),
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitIntervalMs(),
                StreamsConfig.STATE_DIR_CONFIG, config.stateDir());
    }

    /** The API's port, when it runs. */
    public Optional<Integer> apiPort() {
        return api.map(RegistryApi::port);
    }

    public StreamsService streams() {
        return streams;
    }

    /** True while running, rebalancing or starting, and not stuck. */
    public boolean healthy() {
        return streams.healthy();
    }

    /** The Kafka Streams client's health. */
    public StageHealth health() {
        return streams.health();
    }

    @Override
    public void close() {
        api.ifPresent(RegistryApi::close);
        streams.close();
    }
}
