package io.headwater.kafka;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka Streams service as Headwater runs them: topics it needs created when missing,
 * {@code exactly_once_v2}, a deliberate commit interval, Kafka Streams metrics bound to the
 * registry, a failed stream thread replaced rather than the service dying.
 *
 * <pre>{@code
 * StreamsService s = StreamsService.start("trainer", topology, config.raw(), streamsProps, topicsNeeded, registry);
 * }</pre>
 */
public final class StreamsService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamsService.class);

    private final String name;
    private final KafkaStreams streams;
    private final KafkaStreamsMetrics metrics;

    private StreamsService(String name, KafkaStreams streams, KafkaStreamsMetrics metrics) {
        this.name = name;
        this.streams = streams;
        this.metrics = metrics;
    }

    /**
     * @param name        for logs
     * @param topology    what to run
     * @param config      the service's parsed config (common keys and pass-through client keys)
     * @param overrides   the service's own Streams settings (application id, commit interval, state dir)
     * @param topics      topics to create when missing
     */
    public static StreamsService start(String name, Topology topology, AbstractConfig config,
                                       Map<String, Object> overrides, List<Topic<?, ?>> topics,
                                       MeterRegistry registry) {
        Map<String, Object> clientProps = HeadwaterConfigs.clientProperties(config);
        KafkaAccess.check(clientProps);
        try (Admin admin = Admin.create(clientProps)) {
            Topics.ensure(admin, topics, config.getInt(HeadwaterConfigs.TOPIC_PARTITIONS),
                    config.getShort(HeadwaterConfigs.TOPIC_REPLICATION_FACTOR));
        }
        KafkaStreams streams = new KafkaStreams(topology, streamsProperties(clientProps, overrides));
        KafkaStreamsMetrics metrics = new KafkaStreamsMetrics(streams);
        metrics.bindTo(registry);
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("{} stream thread failed; replacing it", name, e);
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        LOG.info("{} started ({})", name, overrides.get(StreamsConfig.APPLICATION_ID_CONFIG));
        return new StreamsService(name, streams, metrics);
    }

    /** Pass-through client keys, then the settings every Headwater Streams service has, then the service's own. */
    public static Properties streamsProperties(Map<String, Object> clientProps, Map<String, Object> overrides) {
        Properties p = new Properties();
        p.putAll(clientProps);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), Topics.MODEL_MAX_BYTES + 1024);
        p.putAll(overrides);
        return p;
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** True while running, rebalancing or starting. */
    public boolean healthy() {
        KafkaStreams.State s = streams.state();
        return s.isRunningOrRebalancing() || s == KafkaStreams.State.CREATED;
    }

    @Override
    public void close() {
        if (!streams.close(Duration.ofSeconds(30))) {
            LOG.warn("{} did not stop within 30 s", name);
        }
        metrics.close();
    }
}
