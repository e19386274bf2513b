package io.headwater.registry;

import io.headwater.core.ConfigException;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.ServiceConfig;
import io.headwater.kafka.UpdateSignature;
import java.security.PrivateKey;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.types.Password;

/**
 * The registry's configuration: the common keys plus its own, and gate policies per task pattern
 * ({@code registry.policy.<glob>.<field>}). Unknown keys go to Kafka Streams.
 */
public final class RegistryConfig extends ServiceConfig {
    public static final String APPLICATION_ID = "registry.application.id";
    public static final String COMMIT_INTERVAL_MS = "registry.commit.interval.ms";
    public static final String STATE_DIR = "registry.state.dir";
    public static final String GATE_MARGIN = "registry.gate.margin";
    public static final String GATE_MIN_WINDOW = "registry.gate.min.window";
    public static final String GATE_FLOOR = "registry.gate.floor";
    public static final String GATE_FIRST_MIN_EXAMPLES = "registry.gate.first.min.examples";
    public static final String GATE_NOISE_Z = "registry.gate.noise.z";
    public static final String API_PORT = "registry.api.port";
    public static final String API_BIND_ADDRESS = "registry.api.bind.address";
    /** Prefix of the API's TLS keys: {@code registry.api.tls.keystore.location}, ... */
    public static final String API_PREFIX = "registry.api.";
    public static final String API_TLS_KEYSTORE = API_PREFIX + "tls.keystore.location";
    public static final String API_TLS_KEYSTORE_PASSWORD = API_PREFIX + "tls.keystore.password";
    public static final String API_TLS_TRUSTSTORE = API_PREFIX + "tls.truststore.location";
    public static final String API_TLS_TRUSTSTORE_PASSWORD = API_PREFIX + "tls.truststore.password";
    public static final String API_ADVERTISED = "registry.api.advertised.host";
    public static final String ADMIN_TOKEN = "registry.admin.token";
    public static final String SIGNING_KEY = "registry.signing.private.key";
    public static final String SIGNING_KEY_ID = "registry.signing.key.id";
    public static final String INSTANCE_ID = "registry.instance.id";

    /** Key ids travel in {@code keyId:base64} lists and in every signature: letters, digits, {@code . _ -}. */
    private static final ConfigDef.Validator KEY_ID = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !value.toString().matches(UpdateSignature.KEY_ID_PATTERN)) {
                throw new org.apache.kafka.common.config.ConfigException(name, value,
                        "a key id is 1 to 64 letters, digits, '.', '_' or '-'");
            }
        }

        @Override
        public String toString() {
            return UpdateSignature.KEY_ID_PATTERN;
        }
    };

    public static final ConfigDef CONFIG = HttpEndpoint.defineTls(HeadwaterConfigs.common()
            .define(APPLICATION_ID, Type.STRING, "headwater-registry", Importance.HIGH,
                    "Kafka Streams application id of the registry.")
            .define(COMMIT_INTERVAL_MS, Type.LONG, 200L, Range.atLeast(10), Importance.MEDIUM,
                    "Kafka Streams commit interval; a published version is visible to read_committed consumers after a commit.")
            .define(STATE_DIR, Type.STRING, System.getProperty("java.io.tmpdir") + "/headwater-registry",
                    Importance.MEDIUM, "Directory of the registry's local state stores.")
            .define(GATE_MARGIN, Type.DOUBLE, 0.02, Range.between(0, 1), Importance.HIGH,
                    "A candidate is rejected when its windowed accuracy is below the current version's by more than this.")
            .define(GATE_MIN_WINDOW, Type.INT, 100, Range.atLeast(0), Importance.MEDIUM,
                    "Test-then-train predictions a candidate's window must hold before it can replace a version.")
            .define(GATE_FLOOR, Type.DOUBLE, 0.0, Range.between(0, 1), Importance.MEDIUM,
                    "No version with a windowed accuracy below this is published.")
            .define(GATE_FIRST_MIN_EXAMPLES, Type.LONG, 50L, Range.atLeast(1), Importance.MEDIUM,
                    "Examples a task's first version must have learned from.")
            .define(GATE_NOISE_Z, Type.DOUBLE, 2.0, Range.between(0, 10), Importance.MEDIUM,
                    "The margin is at least this many standard errors of the difference between the candidate's and the "
                            + "current version's windowed accuracies (different examples, so noisy); 0 uses the margin alone.")
            .define(API_PORT, Type.INT, 9470, Range.between(-1, 65535), Importance.HIGH,
                    "Port of the registry's HTTP API (/tasks); 0 picks a free port, -1 turns the API off.")
            .define(API_BIND_ADDRESS, Type.STRING, HttpEndpoint.ANY_ADDRESS, HttpEndpoint.BIND_ADDRESS, Importance.HIGH,
                    "Address the registry's API listens on: 0.0.0.0 for every interface, 127.0.0.1 for this machine only "
                            + "(the demo's default).")
            .define(API_ADVERTISED, Type.STRING, "", Importance.MEDIUM,
                    "host:port other registry instances use to reach this one's API (Kafka Streams application.server); "
                            + "empty: localhost and the API's port.")
            .define(ADMIN_TOKEN, Type.PASSWORD, null, Importance.HIGH,
                    "Bearer token the admin calls (rollback, pin, pause) require; unset disables them.")
            .define(SIGNING_KEY, Type.PASSWORD, null, Importance.MEDIUM,
                    "Base64 PKCS#8 Ed25519 private key that signs every model update (`headwater keygen` makes one); unset: unsigned.")
            .define(SIGNING_KEY_ID, Type.STRING, "registry", KEY_ID, Importance.LOW,
                    "Key id written beside each signature, so consumers can trust several keys and rotate them: give a new "
                            + "key a new id.")
            .define(INSTANCE_ID, Type.STRING, "", Importance.MEDIUM,
                    "This instance's group.instance.id (static membership; Kafka Streams adds the thread index). It "
                            + "must be unique per instance and stable across its restarts, so a restarted registry takes "
                            + "its tasks back at once instead of waiting out its predecessor's session timeout. Empty "
                            + "means <application id>-<host name>-<a hash of the state directory>, which is unique per instance on a host (instances cannot share a state directory) and stable while the host name and state directory are."), API_PREFIX, "the registry's API", true);

    private final GatePolicy.Book policies;
    private final Optional<SSLContext> apiTls;
    private final Optional<SSLContext> peerTls;
    private final Optional<PrivateKey> signingKey;

    public RegistryConfig(Map<String, ?> props) {
        super(CONFIG, props);
        this.policies = GatePolicy.Book.parse(new GatePolicy(raw().getDouble(GATE_MARGIN), raw().getInt(GATE_MIN_WINDOW),
                raw().getDouble(GATE_FLOOR), raw().getLong(GATE_FIRST_MIN_EXAMPLES), raw().getDouble(GATE_NOISE_Z)),
                raw().originals());
        Password key = raw().getPassword(SIGNING_KEY);
        this.signingKey = key == null ? Optional.empty() : Optional.of(UpdateSignature.privateKey(SIGNING_KEY, key.value()));
        this.apiTls = HttpEndpoint.tls(raw(), API_PREFIX);
        this.peerTls = apiTls.isPresent() ? Optional.of(HttpEndpoint.clientTls(raw(), API_PREFIX)) : Optional.empty();
        String advertised = raw().getString(API_ADVERTISED);
        if (!advertised.isEmpty() && !advertised.matches("[^:\\s]+:\\d{1,5}")) {
            throw new ConfigException("Invalid value " + advertised + " for configuration " + API_ADVERTISED
                    + ": expected host:port");
        }
    }

    public String applicationId() {
        return raw().getString(APPLICATION_ID);
    }

    /** The instance's static group member id: {@code registry.instance.id}, or one derived from application id, host name and state directory. */
    public String instanceId() {
        String id = raw().getString(INSTANCE_ID).trim();
        return id.isEmpty() ? io.headwater.kafka.HeadwaterConfigs.instanceId(applicationId(), stateDir()) : id;
    }

    public long commitIntervalMs() {
        return raw().getLong(COMMIT_INTERVAL_MS);
    }

    public String stateDir() {
        return raw().getString(STATE_DIR);
    }

    GatePolicy.Book policies() {
        return policies;
    }

    Optional<PrivateKey> signingKey() {
        return signingKey;
    }

    public String signingKeyId() {
        return raw().getString(SIGNING_KEY_ID);
    }

    public int apiPort() {
        return raw().getInt(API_PORT);
    }

    /** Where the API listens, and its TLS when {@code registry.api.tls.keystore.location} is set. */
    public HttpEndpoint apiEndpoint() {
        return new HttpEndpoint(raw().getString(API_BIND_ADDRESS), apiPort(), apiTls);
    }

    /** The TLS context of the API's calls to the other instances, when the API serves HTTPS. */
    Optional<SSLContext> peerTls() {
        return peerTls;
    }

    public String advertisedHost() {
        return raw().getString(API_ADVERTISED);
    }

    public Optional<String> adminToken() {
        Password p = raw().getPassword(ADMIN_TOKEN);
        return p == null || p.value().isEmpty() ? Optional.empty() : Optional.of(p.value());
    }
}
