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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP server with {@code /metrics} (Prometheus text format) and health:
 * {@code /health/live} answers 200 while every registered stage is live (running and not stuck),
 * {@code /health/ready} and {@code /health} 200 while every stage is ready (live, started, not
 * rebalancing); otherwise 503. Each answers one line per stage.
 *
 * <pre>{@code
 * try (MetricsServer server = MetricsServer.start(8080, registry)) {
 *     server.addHealth(trainer.health());
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
    private final Map<String, StageHealth> checks = new ConcurrentHashMap<>();

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
            http.createContext("/health", ex -> s.health(ex, false));
            http.createContext("/health/ready", ex -> s.health(ex, false));
            http.createContext("/health/live", ex -> s.health(ex, true));
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

    /** Adds a stage to the health endpoints (replacing one of the same name). */
    public void addHealth(StageHealth health) {
        checks.put(health.stage(), health);
    }

    /** One line per stage: {@code extractor UP running} or {@code trainer DOWN stuck: ...}. */
    private void health(HttpExchange ex, boolean liveness) throws IOException {
        StringBuilder body = new StringBuilder();
        // Before its service has registered a stage, a process is starting: neither live work nor ready.
        boolean ok = !checks.isEmpty();
        if (checks.isEmpty()) {
            body.append("starting\n");
        }
        for (var e : new java.util.TreeMap<>(checks).entrySet()) {
            StageHealth.Status st = e.getValue().status();
            boolean up = liveness ? st.live() : st.ready();
            ok &= up;
            body.append(e.getKey()).append(' ').append(up ? "UP" : "DOWN").append(' ').append(st.detail()).append('\n');
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
