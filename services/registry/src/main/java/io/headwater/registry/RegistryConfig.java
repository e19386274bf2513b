package io.headwater.registry;

import io.headwater.kafka.HeadwaterConfigs;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/** The registry's configuration: the common keys plus its own. Unknown keys go to Kafka Streams. */
public final class RegistryConfig {
    public static final String APPLICATION_ID = "registry.application.id";
    public static final String COMMIT_INTERVAL_MS = "registry.commit.interval.ms";
    public static final String STATE_DIR = "registry.state.dir";

    public static final ConfigDef CONFIG = HeadwaterConfigs.common()
            .define(APPLICATION_ID, Type.STRING, "headwater-registry", Importance.HIGH,
                    "Kafka Streams application id of the registry.")
            .define(COMMIT_INTERVAL_MS, Type.LONG, 200L, Range.atLeast(10), Importance.MEDIUM,
                    "Kafka Streams commit interval; a published version is visible to read_committed consumers after a commit.")
            .define(STATE_DIR, Type.STRING, System.getProperty("java.io.tmpdir") + "/headwater-registry",
                    Importance.MEDIUM, "Directory of the registry's local state stores.");

    private final AbstractConfig config;

    public RegistryConfig(Map<String, ?> props) {
        this.config = HeadwaterConfigs.parse(CONFIG, props);
    }

    public AbstractConfig raw() {
        return config;
    }

    public String applicationId() {
        return config.getString(APPLICATION_ID);
    }

    public long commitIntervalMs() {
        return config.getLong(COMMIT_INTERVAL_MS);
    }

    public String stateDir() {
        return config.getString(STATE_DIR);
    }

    public String topicPrefix() {
        return config.getString(HeadwaterConfigs.TOPIC_PREFIX);
    }

    public Map<String, Object> clientProperties() {
        return HeadwaterConfigs.clientProperties(config);
    }
}
