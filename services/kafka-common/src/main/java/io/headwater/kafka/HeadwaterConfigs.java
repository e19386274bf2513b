package io.headwater.kafka;

import io.headwater.core.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Keys every Headwater service shares, and the helpers that turn a file plus overrides into a
 * validated config. Each service declares its own keys on top of {@link #common()}; any key that
 * is not Headwater's own (security.protocol, sasl.*, ssl.*, client.id, ...) is passed through to
 * every Kafka client the service creates.
 *
 * <pre>{@code
 * ExtractorConfig config = new ExtractorConfig(HeadwaterConfigs.load(Optional.of(file), overrides));
 * }</pre>
 */
public final class HeadwaterConfigs {
    public static final String BOOTSTRAP_SERVERS = CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG;
    public static final String TOPIC_PREFIX = "topic.prefix";
    public static final String TOPIC_PARTITIONS = "topic.partitions";
    public static final String TOPIC_REPLICATION_FACTOR = "topic.replication.factor";
    public static final String TOPIC_MIN_INSYNC_REPLICAS = "topic.min.insync.replicas";
    public static final String METRICS_PORT = "metrics.port";
    public static final String HEALTH_STALL_TIMEOUT_MS = "health.stall.timeout.ms";
    public static final String METRICS_BIND_ADDRESS = "metrics.bind.address";

    /** Prefixes of Headwater's own keys; everything else goes to the Kafka clients. */
    private static final String[] OWN_PREFIXES = {"topic.", "metrics.", "extractor.", "trainer.", "registry.",
        "backbone.", "backbones", "demo.", "serving.", "health."};

    private HeadwaterConfigs() {
    }

    /** The keys every service has. */
    public static ConfigDef common() {
        return new ConfigDef()
                .define(BOOTSTRAP_SERVERS, Type.LIST, "localhost:9092", Importance.HIGH,
                        "Kafka brokers to connect to, host:port, comma-separated.")
                .define(TOPIC_PREFIX, Type.STRING, "headwater.", Importance.MEDIUM,
                        "Prefix of every topic name, so several Headwater installations can share a cluster.")
                .define(TOPIC_PARTITIONS, Type.INT, 3, Range.atLeast(1), Importance.MEDIUM,
                        "Partitions of topics a service creates when they are missing. Parallelism is at most this.")
                .define(TOPIC_REPLICATION_FACTOR, Type.SHORT, (short) TopicSettings.AUTO, new AutoOrAtLeastOne(),
                        Importance.MEDIUM, "Replication factor of the topics a service creates when they are missing, "
                                + "its Kafka Streams internal topics (changelogs) included. -1 = automatic: 3 when the "
                                + "cluster has three or more live brokers at start-up, else the broker's "
                                + "default.replication.factor.")
                .define(TOPIC_MIN_INSYNC_REPLICAS, Type.INT, TopicSettings.AUTO, new AutoOrAtLeastOne(),
                        Importance.MEDIUM, "min.insync.replicas of the topics a service creates (changelogs included): "
                                + "every Headwater producer writes with acks=all, so a write is acknowledged only once "
                                + "this many replicas have it, and a partition with fewer in-sync replicas refuses "
                                + "writes (producers and services wait) until a broker is back. -1 = automatic: 2 when "
                                + "the replication factor is 3 or more, else the broker's default. At most the "
                                + "replication factor.")
                .define(METRICS_PORT, Type.INT, -1, Range.between(-1, 65535), Importance.LOW,
                        "Port of the HTTP server with /metrics (Prometheus) and /health; -1 disables it, 0 picks a free port.")
                .define(HEALTH_STALL_TIMEOUT_MS, Type.LONG, 20_000L, Range.between(1_000L, 3_600_000L), Importance.MEDIUM,
                        "A stage with input waiting (lag above zero) and no progress for this long is stuck: /health/live "
                                + "answers 503 and headwater_health_live is 0. Restoring state counts as progress.")
                .define(METRICS_BIND_ADDRESS, Type.STRING, HttpEndpoint.ANY_ADDRESS, HttpEndpoint.BIND_ADDRESS,
                        Importance.LOW, "Address the /metrics and /health server listens on: 0.0.0.0 for every interface, "
                                + "127.0.0.1 for this machine only (the demo's default).");
    }

    /**
     * Reads an optional properties file and applies overrides on top. A missing or unreadable file
     * stops start-up with a message naming it.
     */
    public static Map<String, String> load(java.util.Optional<Path> file, Map<String, String> overrides) {
        Map<String, String> out = new HashMap<>();
        if (file.isPresent()) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(file.get())) {
                p.load(in);
            } catch (IOException e) {
                throw new ConfigException("cannot read config file " + file.get() + ": " + e.getMessage(), e);
            }
            p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k).trim()));
        }
        out.putAll(overrides);
        return out;
    }

    /** Parses {@code props} against {@code def}; a bad value gives a {@link ConfigException} naming key and value. */
    public static AbstractConfig parse(ConfigDef def, Map<String, ?> props) {
        try {
            return new AbstractConfig(def, props, false);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    /** Settings for Kafka clients: bootstrap servers plus every key that is not Headwater's own. */
    public static Map<String, Object> clientProperties(AbstractConfig config) {
        Map<String, Object> out = new HashMap<>();
        config.originals().forEach((k, v) -> {
            if (!isOwnKey(k)) {
                out.put(k, v);
            }
        });
        out.put(BOOTSTRAP_SERVERS, String.join(",", config.getList(BOOTSTRAP_SERVERS)));
        return out;
    }

    /** This machine's host name, for default instance ids; "localhost" when it has none. */
    public static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    /**
     * A default static member id: stable across restarts of the same instance (same host name and
     * state directory), distinct between instances on one host (they cannot share a state directory).
     */
    public static String instanceId(String applicationId, String stateDir) {
        String dir = java.nio.file.Path.of(stateDir).toAbsolutePath().normalize().toString();
        String hash = io.headwater.core.HeadArtifact.sha256(dir.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .substring(0, 8);
        return applicationId + "-" + hostName() + "-" + hash;
    }

    static boolean isOwnKey(String key) {
        for (String p : OWN_PREFIXES) {
            if (key.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** -1 (automatic) or a positive number, for the replication settings. */
    static final class AutoOrAtLeastOne implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            long v = ((Number) value).longValue();
            if (v != TopicSettings.AUTO && v < 1) {
                throw new org.apache.kafka.common.config.ConfigException(name, value, "must be -1 (automatic) or >= 1");
            }
        }

        @Override
        public String toString() {
            return "-1 or [1,...]";
        }
    }

    /** What a validator accepts, for the reference table; a lambda's check is in the description. */
    private static String validValues(ConfigDef.Validator v) {
        if (v == null || v.toString().contains("$$Lambda")) {
            return "";
        }
        return v.toString().replace("|", "\\|");
    }

    /** The reference table of a config definition, in Markdown, for docs/configuration.md. */
    public static String toMarkdown(ConfigDef def) {
        StringBuilder b = new StringBuilder("| key | type | default | valid values | description |\n|---|---|---|---|---|\n");
        for (ConfigDef.ConfigKey k : new java.util.TreeMap<>(def.configKeys()).values()) {
            b.append("| `").append(k.name).append("` | ").append(k.type.toString().toLowerCase(java.util.Locale.ROOT))
                    .append(" | ").append(k.hasDefault() ? "`" + ConfigDef.convertToString(k.defaultValue, k.type) + "`" : "(required)")
                    .append(" | ").append(validValues(k.validator))
                    .append(" | ").append(k.documentation.replace("|", "\\|")).append(" |\n");
        }
        return b.toString();
    }
}
