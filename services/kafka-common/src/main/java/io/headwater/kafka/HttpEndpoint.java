package io.headwater.kafka;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.headwater.core.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.types.Password;

/**
 * Where and how one of Headwater's HTTP servers listens: a bind address ({@code 127.0.0.1} keeps it
 * to this machine), a port, and optionally TLS with a key and certificate from a PKCS#12 (or JKS)
 * keystore. Also what every handler does with requests: bodies read up to a limit (a larger one is
 * answered 413 without being read), errors answered without exception text.
 *
 * <pre>{@code
 * HttpEndpoint endpoint = new HttpEndpoint("127.0.0.1", 8080, HttpEndpoint.tls(config, "serving."));
 * HttpServer server = endpoint.create(16);
 * }</pre>
 *
 * @param bindAddress an IP address or a host name of this machine; {@code 0.0.0.0} means every interface
 * @param port        0 picks a free one
 * @param tls         the server's TLS context, when it serves HTTPS
 */
public record HttpEndpoint(String bindAddress, int port, Optional<SSLContext> tls) {
    /** Every interface, IPv4 and IPv6. */
    public static final String ANY_ADDRESS = "0.0.0.0";
    /** What the demo binds to: this machine only. */
    public static final String LOOPBACK = "127.0.0.1";
    static final String KEYSTORE_LOCATION = "tls.keystore.location";
    static final String KEYSTORE_PASSWORD = "tls.keystore.password";
    static final String TRUSTSTORE_LOCATION = "tls.truststore.location";
    static final String TRUSTSTORE_PASSWORD = "tls.truststore.password";

    /** A bind address: an IP address, or a host name this machine resolves. */
    public static final ConfigDef.Validator BIND_ADDRESS = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            try {
                InetAddress.getByName(Objects.toString(value, "").isBlank() ? "-" : value.toString().trim());
            } catch (UnknownHostException e) {
                throw new org.apache.kafka.common.config.ConfigException(name, value,
                        "not an IP address or a host name of this machine");
            }
        }

        @Override
        public String toString() {
            return "an IP address or host name";
        }
    };

    public HttpEndpoint {
        Objects.requireNonNull(bindAddress, "bindAddress cannot be null");
        Objects.requireNonNull(tls, "tls cannot be null");
    }

    /** Plain HTTP on every interface, as the servers listened before they had a bind address. */
    public static HttpEndpoint anyAddress(int port) {
        return new HttpEndpoint(ANY_ADDRESS, port, Optional.empty());
    }

    /** {@code https} with TLS, else {@code http}. */
    public String scheme() {
        return tls.isPresent() ? "https" : "http";
    }

    /**
     * An HTTP (or, with TLS, HTTPS) server bound to this endpoint, with {@code threads} daemon
     * request threads. Not started.
     */
    public HttpServer create(int threads) throws IOException {
        InetAddress address = InetAddress.getByName(bindAddress);
        // The wildcard as the JDK spells it binds IPv6 as well as IPv4 on a dual-stack machine.
        InetSocketAddress socket = address.isAnyLocalAddress() ? new InetSocketAddress(port)
                : new InetSocketAddress(address, port);
        HttpServer http;
        if (tls.isPresent()) {
            HttpsServer https = HttpsServer.create(socket, 0);
            https.setHttpsConfigurator(new HttpsConfigurator(tls.get()));
            http = https;
        } else {
            http = HttpServer.create(socket, 0);
        }
        http.setExecutor(Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "headwater-http");
            t.setDaemon(true);
            return t;
        }));
        return http;
    }

    /**
     * Declares {@code <prefix>tls.keystore.location} and {@code <prefix>tls.keystore.password} (and,
     * with {@code truststore}, the truststore this server's own HTTPS calls to its peers trust).
     */
    public static ConfigDef defineTls(ConfigDef def, String prefix, String what, boolean truststore) {
        def.define(prefix + KEYSTORE_LOCATION, Type.STRING, "", Importance.MEDIUM,
                        "PKCS#12 (or JKS) keystore with the key and certificate for HTTPS on " + what
                                + "; empty: plain HTTP.")
                .define(prefix + KEYSTORE_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM,
                        "Password of " + prefix + KEYSTORE_LOCATION + " and of the key in it.");
        if (truststore) {
            def.define(prefix + TRUSTSTORE_LOCATION, Type.STRING, "", Importance.LOW,
                            "PKCS#12 (or JKS) truststore with the certificates (or their issuers) of the other "
                                    + "instances, which " + what + " forwards calls to over HTTPS; empty: the JDK's default "
                                    + "trust.")
                    .define(prefix + TRUSTSTORE_PASSWORD, Type.PASSWORD, null, Importance.LOW,
                            "Password of " + prefix + TRUSTSTORE_LOCATION + ".");
        }
        return def;
    }

    /**
     * The server's TLS context from {@code <prefix>tls.keystore.*}, empty when no keystore is set. A
     * keystore that cannot be read, a wrong password or one without a key stops start-up with a
     * {@link ConfigException} naming the key and the file.
     */
    public static Optional<SSLContext> tls(AbstractConfig config, String prefix) {
        String location = config.getString(prefix + KEYSTORE_LOCATION);
        if (location.isBlank()) {
            return Optional.empty();
        }
        char[] password = password(config, prefix + KEYSTORE_PASSWORD);
        KeyStore keys = load(prefix + KEYSTORE_LOCATION, location, password);
        try {
            if (!hasKey(keys)) {
                throw new ConfigException("Invalid value " + location + " for configuration " + prefix
                        + KEYSTORE_LOCATION + ": the keystore holds no private key");
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return Optional.of(context);
        } catch (GeneralSecurityException e) {
            throw new ConfigException("Invalid value " + location + " for configuration " + prefix + KEYSTORE_LOCATION
                    + ": cannot use its key with " + prefix + KEYSTORE_PASSWORD + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The TLS context for this server's own HTTPS calls: trusting {@code <prefix>tls.truststore.location},
     * or the JDK's default trust when it is empty.
     */
    public static SSLContext clientTls(AbstractConfig config, String prefix) {
        String location = config.getString(prefix + TRUSTSTORE_LOCATION);
        try {
            if (location.isBlank()) {
                return SSLContext.getDefault();
            }
            KeyStore trust = load(prefix + TRUSTSTORE_LOCATION, location, password(config, prefix + TRUSTSTORE_PASSWORD));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new ConfigException("Invalid value " + location + " for configuration " + prefix + TRUSTSTORE_LOCATION
                    + ": " + e.getMessage(), e);
        }
    }

    private static boolean hasKey(KeyStore keys) throws GeneralSecurityException {
        for (String alias : java.util.Collections.list(keys.aliases())) {
            if (keys.isKeyEntry(alias)) {
                return true;
            }
        }
        return false;
    }

    private static char[] password(AbstractConfig config, String key) {
        Password p = config.getPassword(key);
        return p == null ? new char[0] : p.value().toCharArray();
    }

    private static KeyStore load(String key, String location, char[] password) {
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException("Invalid value " + location + " for configuration " + key + ": cannot read it as "
                    + "a PKCS#12 or JKS store with the password given (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The request's body, or empty when it is longer than {@code maxBytes}: a declared
     * {@code Content-Length} over the limit is refused before anything is read, a chunked body as
     * soon as it passes the limit.
     */
    public static Optional<byte[]> readBody(HttpExchange ex, int maxBytes) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null && declared.matches("\\d{1,18}") && Long.parseLong(declared) > maxBytes) {
            return Optional.empty();
        }
        byte[] body = ex.getRequestBody().readNBytes(maxBytes + 1);
        return body.length > maxBytes ? Optional.empty() : Optional.of(body);
    }

    /** Answers 413 and closes the connection, so the rest of the body is never read. */
    public static void tooLarge(HttpExchange ex, String type, String body) throws IOException {
        ex.getResponseHeaders().set("Connection", "close");
        MetricsServer.respond(ex, 413, type, body);
    }
}
