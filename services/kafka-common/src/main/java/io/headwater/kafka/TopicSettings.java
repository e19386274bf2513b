package io.headwater.kafka;

import io.headwater.core.ConfigException;
import io.headwater.core.FatalException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * How a service creates the topics it owns and its Kafka Streams internal topics (changelogs,
 * repartition topics): partitions, replication factor and {@code min.insync.replicas}, from the
 * {@code topic.*} keys. {@value #AUTO} means automatic: on a cluster of three or more brokers,
 * replication factor 3 with {@code min.insync.replicas=2} (a write is acknowledged once two copies
 * have it, and one broker can be lost without losing or refusing data); on a smaller cluster, the
 * broker's defaults.
 *
 * <pre>{@code
 * TopicSettings.Resolved s = TopicSettings.of(config.raw()).resolve(admin);
 * s.replicationFactor();   // Optional[3] on three brokers, empty (the broker's default) on one
 * }</pre>
 *
 * @param partitions         partitions of a created topic, at least 1
 * @param replicationFactor  {@value #AUTO} or at least 1
 * @param minInsyncReplicas  {@value #AUTO} or at least 1, and at most an explicit replication factor
 */
public record TopicSettings(int partitions, short replicationFactor, int minInsyncReplicas) {
    /** The value of {@code topic.replication.factor} and {@code topic.min.insync.replicas} that means automatic. */
    public static final int AUTO = -1;
    /** Brokers from which the automatic settings are the production ones. */
    public static final int PRODUCTION_BROKERS = 3;
    /** The automatic replication factor on {@value #PRODUCTION_BROKERS} or more brokers. */
    public static final short PRODUCTION_REPLICATION_FACTOR = 3;
    /** The automatic {@code min.insync.replicas} of a topic with 3 or more replicas. */
    public static final int PRODUCTION_MIN_INSYNC_REPLICAS = 2;

    public TopicSettings {
        if (partitions < 1) {
            throw new ConfigException(HeadwaterConfigs.TOPIC_PARTITIONS + " must be >= 1, found " + partitions);
        }
        if (replicationFactor != AUTO && replicationFactor < 1) {
            throw new ConfigException(HeadwaterConfigs.TOPIC_REPLICATION_FACTOR + " must be -1 or >= 1, found "
                    + replicationFactor);
        }
        if (minInsyncReplicas != AUTO && minInsyncReplicas < 1) {
            throw new ConfigException(HeadwaterConfigs.TOPIC_MIN_INSYNC_REPLICAS + " must be -1 or >= 1, found "
                    + minInsyncReplicas);
        }
        if (replicationFactor != AUTO && minInsyncReplicas > replicationFactor) {
            throw new ConfigException(HeadwaterConfigs.TOPIC_MIN_INSYNC_REPLICAS + " must be at most "
                    + HeadwaterConfigs.TOPIC_REPLICATION_FACTOR + " (" + replicationFactor + "), found "
                    + minInsyncReplicas + ": no write would ever be acknowledged");
        }
    }

    /** The settings of a parsed service config (the common {@code topic.*} keys). */
    public static TopicSettings of(AbstractConfig config) {
        return new TopicSettings(config.getInt(HeadwaterConfigs.TOPIC_PARTITIONS),
                config.getShort(HeadwaterConfigs.TOPIC_REPLICATION_FACTOR),
                config.getInt(HeadwaterConfigs.TOPIC_MIN_INSYNC_REPLICAS));
    }

    /**
     * The automatic values made concrete for a cluster of {@code brokers} live brokers.
     *
     * @throws ConfigException when an explicit {@code min.insync.replicas} is above the replication factor
     *                         the automatic setting chose
     */
    public Resolved resolve(int brokers) {
        Optional<Short> rf = replicationFactor != AUTO ? Optional.of(replicationFactor)
                : brokers >= PRODUCTION_BROKERS ? Optional.of(PRODUCTION_REPLICATION_FACTOR) : Optional.empty();
        Optional<Integer> minIsr = minInsyncReplicas != AUTO ? Optional.of(minInsyncReplicas)
                : rf.filter(r -> r >= PRODUCTION_REPLICATION_FACTOR).map(r -> PRODUCTION_MIN_INSYNC_REPLICAS);
        if (rf.isPresent() && minIsr.isPresent() && minIsr.get() > rf.get()) {
            throw new ConfigException(HeadwaterConfigs.TOPIC_MIN_INSYNC_REPLICAS + " must be at most the replication "
                    + "factor (" + rf.get() + " on " + brokers + " brokers), found " + minIsr.get());
        }
        return new Resolved(partitions, rf, minIsr);
    }

    /** {@link #resolve(int)} for the brokers the cluster has now. */
    public Resolved resolve(Admin admin) {
        try {
            return resolve(admin.describeCluster().nodes().get().size());
        } catch (ExecutionException e) {
            throw new FatalException("Failed to count the cluster's brokers: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while counting the cluster's brokers", e);
        }
    }

    /**
     * Settings made concrete for one cluster; an empty value leaves it to the broker's default
     * ({@code default.replication.factor}, {@code min.insync.replicas}).
     */
    public record Resolved(int partitions, Optional<Short> replicationFactor, Optional<Integer> minInsyncReplicas) {

        /** Topic-level configs every created topic gets on top of its own. */
        public Map<String, String> topicConfigs() {
            Map<String, String> m = new HashMap<>();
            minInsyncReplicas.ifPresent(n -> m.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(n)));
            return m;
        }

        /** The same settings for the internal topics Kafka Streams creates. */
        public Map<String, Object> streamsProperties() {
            Map<String, Object> m = new HashMap<>();
            replicationFactor.ifPresent(r -> m.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) r));
            minInsyncReplicas.ifPresent(n -> m.put(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG), n));
            return m;
        }

        @Override
        public String toString() {
            return partitions + " partitions, replication factor "
                    + replicationFactor.map(String::valueOf).orElse("(broker default)") + ", min.insync.replicas "
                    + minInsyncReplicas.map(String::valueOf).orElse("(broker default)");
        }
    }
}
