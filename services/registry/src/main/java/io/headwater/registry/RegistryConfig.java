package io.headwater.registry;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ServiceConfig;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/** The registry's configuration: the common keys plus its own. Unknown keys go to Kafka Streams. */
public final class RegistryConfig extends ServiceConfig {
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

    public RegistryConfig(Map<String, ?> props) {
        super(CONFIG, props);
    }

    public String applicationId() {
        return raw().getString(APPLICATION_ID);
    }

    public long commitIntervalMs() {
        return raw().getLong(COMMIT_INTERVAL_MS);
    }

    public String stateDir() {
        return raw().getString(STATE_DIR);
    }
}
