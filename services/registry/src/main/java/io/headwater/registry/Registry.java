package io.headwater.registry;

import io.headwater.core.FatalException;
import io.headwater.kafka.StageHealth;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topic;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;

/**
 * The registry service: {@link RegistryTopology} under {@link StreamsService}, plus its HTTP API
 * ({@link RegistryApi}) unless {@code registry.api.port} is -1.
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
        Optional<RegistryApi> api = Optional.empty();
        Map<String, Object> overrides = new HashMap<>(streamsOverrides(config));
        HostInfo advertised = null;
        if (config.apiPort() >= 0) {
            try {
                api = Optional.of(new RegistryApi(config.apiPort(), config));
            } catch (IOException e) {
                throw new FatalException("Failed to start the registry API on port " + config.apiPort() + ": "
                        + e.getMessage(), e);
            }
            advertised = config.advertisedHost().isEmpty() ? new HostInfo("localhost", api.get().port())
                    : HostInfo.buildFromEndpoint(config.advertisedHost());
            overrides.put(StreamsConfig.APPLICATION_SERVER_CONFIG, advertised.host() + ":" + advertised.port());
        }
        List<Topic<?, ?>> needed = List.of(topics.modelCandidates(), topics.registryCommands(), topics.modelUpdates(),
                topics.modelHistory(), topics.registryDlq());
        int dlqMaxBytes;
        try (Admin admin = Admin.create(config.clientProperties())) {
            Topics.ensure(admin, needed, config.topicSettings());
            dlqMaxBytes = Math.min(Topics.MODEL_MAX_BYTES, Topics.maxMessageBytes(admin, topics.registryDlq()));
        }
        overrides.putAll(StreamsService.staticMembership(config.instanceId()));
        StreamsService s = StreamsService.start("registry", RegistryTopology.build(config, registry, dlqMaxBytes),
                config.raw(), overrides, needed, registry);
        if (api.isPresent()) {
            api.get().start(s.streams(), advertised);
        }
        return new Registry(s, api);
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
