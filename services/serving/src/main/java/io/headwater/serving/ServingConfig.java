package io.headwater.serving;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ServiceConfig;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/** The serving service's own keys; it embeds with the {@code backbone.*} keys the extractor uses. */
public final class ServingConfig extends ServiceConfig {
    public static final String PORT = "serving.port";
    public static final String TASKS = "serving.tasks";

    public static final ConfigDef CONFIG = HeadwaterConfigs.common()
            .define(PORT, Type.INT, 8080, Range.between(0, 65535), Importance.HIGH,
                    "Port of POST /predict, GET /health and GET /metrics; 0 picks a free one.")
            .define(TASKS, Type.STRING, ".*", (name, value) -> {
                try {
                    Pattern.compile((String) value);
                } catch (PatternSyntaxException e) {
                    throw new ConfigException(name, value, "not a regular expression: " + e.getDescription());
                }
            }, Importance.MEDIUM, "Regular expression of the tasks to serve (the whole task id must match).");

    public ServingConfig(Map<String, ?> props) {
        super(CONFIG, props);
    }

    public int port() {
        return raw().getInt(PORT);
    }

    public Pattern tasks() {
        return Pattern.compile(raw().getString(TASKS));
    }
}
