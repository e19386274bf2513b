package io.headwater.kafka;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.headwater.core.FatalException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP server with {@code /metrics} (Prometheus text format), {@code /health} and
 * {@code /health/ready} (200 when every registered check passes, 503 otherwise, with one line per
 * check) and {@code /health/live} (200 while the process serves HTTP at all).
 *
 * <pre>{@code
 * try (MetricsServer server = MetricsServer.start(8080, registry)) {
 *     server.addHealthCheck("trainer", () -> streams.state().isRunningOrRebalancing());
 * }
 * }</pre>
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

    static {
        // The JDK server writes a response's headers and body in separate writes; with Nagle's
        // algorithm on, the body then waits for the client's delayed ACK of the headers: about 40 ms
        // on every /predict answered to a Java client (measured: 50 ms per request, 10 ms with this).
        // Read once, when the JDK's server classes load, so set it before the first server exists.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final HttpServer server;
    private final Map<String, BooleanSupplier> checks = new ConcurrentHashMap<>();

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /** Starts on the given port (0 = any free port) on all interfaces, with 4 request threads. */
    public static MetricsServer start(int port, PrometheusMeterRegistry registry) {
        return start(port, registry, 4);
    }

    /** Starts on the given port (0 = any free port) on all interfaces. */
    public static MetricsServer start(int port, PrometheusMeterRegistry registry, int threads) {
        return start(HttpEndpoint.anyAddress(port), registry, threads);
    }

    /** Starts on the endpoint's address and port (0 = any free port), over TLS when it has it. */
    public static MetricsServer start(HttpEndpoint endpoint, PrometheusMeterRegistry registry, int threads) {
        int port = endpoint.port();
        try {
            HttpServer http = endpoint.create(threads);
            MetricsServer s = new MetricsServer(http);
            http.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                    registry.scrape()));
            http.createContext("/health", s::health);
            http.createContext("/health/ready", s::health);
            http.createContext("/health/live", ex -> respond(ex, 200, "text/plain; charset=utf-8", "UP\n"));
            http.start();
            LOG.info("Serving /metrics and /health on {}://{}:{}", endpoint.scheme(), endpoint.bindAddress(), s.port());
            return s;
        } catch (IOException e) {
            throw new FatalException("Failed to start the metrics server on " + endpoint.bindAddress() + ":" + port + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * An HTTP server bound to {@code port} (0 = any free one) with a few daemon threads, so a slow
     * request (a /predict that embeds) does not hold up the others. Not started.
     */
    public static HttpServer http(int port) throws IOException {
        return http(port, 4);
    }

    /** As {@link #http(int)}, with {@code threads} request threads. */
    public static HttpServer http(int port, int threads) throws IOException {
        return HttpEndpoint.anyAddress(port).create(threads);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Serves another path on the same port (e.g. {@code /predict}). */
    public void addHandler(String path, com.sun.net.httpserver.HttpHandler handler) {
        server.createContext(path, handler);
    }

    public void addHealthCheck(String name, BooleanSupplier check) {
        checks.put(name, check);
    }

    private void health(HttpExchange ex) throws IOException {
        StringBuilder body = new StringBuilder();
        boolean ok = true;
        for (var e : new java.util.TreeMap<>(checks).entrySet()) {
            boolean up = e.getValue().getAsBoolean();
            ok &= up;
            body.append(e.getKey()).append(' ').append(up ? "UP" : "DOWN").append('\n');
        }
        respond(ex, ok ? 200 : 503, "text/plain; charset=utf-8", (ok ? "UP\n" : "DOWN\n") + body);
    }

    /** Writes a whole response. */
    public static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        respond(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes a whole response. */
    public static void respond(HttpExchange ex, int status, String type, byte[] bytes) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
