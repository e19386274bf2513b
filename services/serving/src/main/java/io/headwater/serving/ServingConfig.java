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
import io.headwater.kafka.UpdateSignature;
import java.security.PublicKey;
import org.apache.kafka.common.config.ConfigException;

/** The serving service's own keys; it embeds with the {@code backbone.*} keys the extractor uses. */
public final class ServingConfig extends ServiceConfig {
    public static final String PORT = "serving.port";
    public static final String TASKS = "serving.tasks";
    public static final String BATCH_MAX_TEXTS = "serving.batch.max.texts";
    public static final String BATCH_MAX_WAIT_MS = "serving.batch.max.wait.ms";
    public static final String HTTP_THREADS = "serving.http.threads";
    public static final String TRUSTED_KEYS = "serving.trusted.keys";

    public static final ConfigDef CONFIG = HeadwaterConfigs.common()
            .define(PORT, Type.INT, 8080, Range.between(0, 65535), Importance.HIGH,
                    "Port of POST /predict, GET /health and GET /metrics; 0 picks a free one.")
            .define(TASKS, Type.STRING, ".*", (name, value) -> {
                try {
                    Pattern.compile((String) value);
                } catch (PatternSyntaxException e) {
                    throw new ConfigException(name, value, "not a regular expression: " + e.getDescription());
                }
            }, Importance.MEDIUM, "Regular expression of the tasks to serve (the whole task id must match).")
            .define(BATCH_MAX_TEXTS, Type.INT, 64, Range.atLeast(1), Importance.MEDIUM,
                    "Most texts of concurrent requests embedded in one backbone call.")
            .define(BATCH_MAX_WAIT_MS, Type.LONG, 2L, Range.between(0, 1000), Importance.MEDIUM,
                    "How long a backbone call waits for more concurrent requests once one arrived.")
            .define(HTTP_THREADS, Type.INT, 16, Range.between(1, 1024), Importance.LOW,
                    "Threads answering HTTP requests; concurrent /predict requests are batched together.")
            .define(TRUSTED_KEYS, Type.LIST, "", Importance.MEDIUM,
                    "Ed25519 public keys that sign model updates, as keyId:base64 (X.509) entries, comma-separated; "
                            + "when set, unsigned or badly signed updates are refused.");

    private final Map<String, PublicKey> trustedKeys = new java.util.LinkedHashMap<>();

    public ServingConfig(Map<String, ?> props) {
        super(CONFIG, props);
        for (String entry : raw().getList(TRUSTED_KEYS)) {
            int colon = entry.indexOf(':');
            if (colon < 1) {
                throw new io.headwater.core.ConfigException("Invalid value " + entry + " for configuration "
                        + TRUSTED_KEYS + ": expected keyId:base64");
            }
            trustedKeys.put(entry.substring(0, colon), UpdateSignature.publicKey(TRUSTED_KEYS, entry.substring(colon + 1)));
        }
    }

    public int batchMaxTexts() {
        return raw().getInt(BATCH_MAX_TEXTS);
    }

    public long batchMaxWaitMs() {
        return raw().getLong(BATCH_MAX_WAIT_MS);
    }

    public int httpThreads() {
        return raw().getInt(HTTP_THREADS);
    }

    /** Trusted signing keys by key id; empty when updates need no signature. */
    public Map<String, PublicKey> trustedKeys() {
        return Map.copyOf(trustedKeys);
    }

    public int port() {
        return raw().getInt(PORT);
    }

    public Pattern tasks() {
        return Pattern.compile(raw().getString(TASKS));
    }
}
