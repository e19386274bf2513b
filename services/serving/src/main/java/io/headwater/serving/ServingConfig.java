package io.headwater.serving;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.ServiceConfig;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
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
    public static final String BIND_ADDRESS = "serving.bind.address";
    public static final String REQUEST_MAX_BYTES = "serving.request.max.bytes";
    /** Prefix of the TLS keys: {@code serving.tls.keystore.location}, {@code serving.tls.keystore.password}. */
    public static final String PREFIX = "serving.";
    public static final String TLS_KEYSTORE = PREFIX + "tls.keystore.location";
    public static final String TLS_KEYSTORE_PASSWORD = PREFIX + "tls.keystore.password";

    public static final ConfigDef CONFIG = HttpEndpoint.defineTls(HeadwaterConfigs.common()
            .define(PORT, Type.INT, 8080, Range.between(0, 65535), Importance.HIGH,
                    "Port of POST /predict, GET /health and GET /metrics; 0 picks a free one.")
            .define(BIND_ADDRESS, Type.STRING, HttpEndpoint.ANY_ADDRESS, HttpEndpoint.BIND_ADDRESS, Importance.HIGH,
                    "Address serving listens on: 0.0.0.0 for every interface, 127.0.0.1 for this machine only "
                            + "(the demo's default).")
            .define(REQUEST_MAX_BYTES, Type.INT, 1024 * 1024, Range.between(1024, 64 * 1024 * 1024), Importance.LOW,
                    "Largest /predict request body; a larger one is answered 413 without being read.")
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
                            + "when set, updates that are unsigned, signed by a key not listed or badly signed are refused. "
                            + "List the old and the new key while a signing key is rotated."),
            PREFIX, "serving's port (/predict, /health, /metrics)", false);

    private final Map<String, PublicKey> trustedKeys = new java.util.LinkedHashMap<>();
    private final Optional<SSLContext> tls;

    public ServingConfig(Map<String, ?> props) {
        super(CONFIG, props);
        for (String entry : raw().getList(TRUSTED_KEYS)) {
            int colon = entry.indexOf(':');
            String keyId = colon < 0 ? "" : entry.substring(0, colon);
            if (!keyId.matches(UpdateSignature.KEY_ID_PATTERN)) {
                throw new io.headwater.core.ConfigException("Invalid value " + abbreviate(entry) + " for configuration "
                        + TRUSTED_KEYS + ": expected keyId:base64, the key id " + UpdateSignature.KEY_ID_PATTERN);
            }
            if (trustedKeys.containsKey(keyId)) {
                // Two keys under one id would leave one of them unused: a rotation gives the new key a new id.
                throw new io.headwater.core.ConfigException("Invalid value " + TRUSTED_KEYS + ": key id '" + keyId
                        + "' is listed twice; every signing key needs an id of its own (registry.signing.key.id)");
            }
            trustedKeys.put(keyId, UpdateSignature.publicKey(TRUSTED_KEYS + " (key id " + keyId + ")",
                    entry.substring(colon + 1)));
        }
        this.tls = HttpEndpoint.tls(raw(), PREFIX);
    }

    private static String abbreviate(String s) {
        return s.length() <= 24 ? s : s.substring(0, 21) + "...";
    }

    /** Where serving listens, and its TLS when {@code serving.tls.keystore.location} is set. */
    public HttpEndpoint endpoint() {
        return new HttpEndpoint(raw().getString(BIND_ADDRESS), port(), tls);
    }

    public int requestMaxBytes() {
        return raw().getInt(REQUEST_MAX_BYTES);
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
