package io.headwater.extractor;

import io.headwater.backbone.BackboneSpec;
import io.headwater.kafka.HeadwaterConfigs;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The extractor's configuration: the common keys plus its own. Unknown keys go to the Kafka clients.
 *
 * <pre>{@code
 * ExtractorConfig config = new ExtractorConfig(Map.of("bootstrap.servers", "kafka:9092"));
 * }</pre>
 */
public final class ExtractorConfig {
    public static final String GROUP_ID = "extractor.group.id";
    public static final String TRANSACTIONAL_ID = "extractor.transactional.id";
    public static final String MAX_POLL_RECORDS = "extractor.max.poll.records";
    public static final String CACHE_DIR = "extractor.cache.dir";
    public static final String BACKBONE_NAME = "backbone.name";
    public static final String BACKBONE_MAX_TOKENS = "backbone.max.tokens";
    public static final String BACKBONE_BATCH_SIZE = "backbone.batch.size";
    public static final String BACKBONE_THREADS = "backbone.threads";

    public static final ConfigDef CONFIG = HeadwaterConfigs.common()
            .define(GROUP_ID, Type.STRING, "headwater-extractor", Importance.MEDIUM,
                    "Consumer group of the extractor instances.")
            .define(TRANSACTIONAL_ID, Type.STRING, "", Importance.MEDIUM,
                    "Transactional id of this instance's producer, also its consumer's group.instance.id (static membership). It must be unique per instance and stable across its restarts, so a restarted instance fences off and aborts its predecessor's open transaction and takes its partitions back at once. Empty means <group id>-<host name>: set it when several instances share a host.")
            .define(CACHE_DIR, Type.STRING, System.getProperty("java.io.tmpdir") + "/headwater-embedding-cache",
                    Importance.MEDIUM, "Directory of the local embedding cache (RocksDB), keyed by backbone and content hash: a replay or a second task on the same texts does not run the backbone again. Empty disables it.")
            .define(MAX_POLL_RECORDS, Type.INT, 256, Range.between(1, 100_000), Importance.MEDIUM,
                    "Examples read per poll; each poll is embedded and committed as one transaction.")
            .define(BACKBONE_NAME, Type.STRING, BackboneSpec.defaults().name(), Importance.HIGH,
                    "The pretrained backbone that embeds examples.")
            .define(BACKBONE_MAX_TOKENS, Type.INT, BackboneSpec.defaults().maxTokens(), Range.between(8, 512),
                    Importance.MEDIUM, "Texts are truncated to this many tokens.")
            .define(BACKBONE_BATCH_SIZE, Type.INT, BackboneSpec.defaults().batchSize(), Range.between(1, 4096),
                    Importance.MEDIUM, "Texts per backbone run for models that batch (texts are sorted by length first); the int8 MiniLM runs one text per run, since its dynamic quantization makes a batch change each text's vector.")
            .define(BACKBONE_THREADS, Type.INT, BackboneSpec.defaults().intraOpThreads(), Range.between(0, 1024),
                    Importance.MEDIUM, "Cores the backbone uses: for the int8 MiniLM, texts embedded at once (one thread each); for batching models, ONNX Runtime intra-op threads. 0 = one per core.");

    private final AbstractConfig config;

    public ExtractorConfig(Map<String, ?> props) {
        this.config = HeadwaterConfigs.parse(CONFIG, props);
    }

    public AbstractConfig raw() {
        return config;
    }

    public String groupId() {
        return config.getString(GROUP_ID);
    }

    public String transactionalId() {
        String id = config.getString(TRANSACTIONAL_ID);
        return id.isEmpty() ? groupId() + "-" + hostName() : id;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    /** The embedding cache directory, or empty when the cache is off. */
    public java.util.Optional<java.nio.file.Path> cacheDir() {
        String dir = config.getString(CACHE_DIR).trim();
        return dir.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(java.nio.file.Path.of(dir));
    }

    public int maxPollRecords() {
        return config.getInt(MAX_POLL_RECORDS);
    }

    public String topicPrefix() {
        return config.getString(HeadwaterConfigs.TOPIC_PREFIX);
    }

    public BackboneSpec backboneSpec() {
        return new BackboneSpec(config.getString(BACKBONE_NAME), config.getInt(BACKBONE_MAX_TOKENS),
                config.getInt(BACKBONE_BATCH_SIZE), config.getInt(BACKBONE_THREADS));
    }

    public Map<String, Object> clientProperties() {
        return HeadwaterConfigs.clientProperties(config);
    }
}
