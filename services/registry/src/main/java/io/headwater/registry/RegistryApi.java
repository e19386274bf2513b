package io.headwater.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.Json;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.RegistryCommand;
import io.headwater.kafka.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's HTTP API, JSON in and out. Every instance answers every call: a task's data lives
 * in the state stores of the instance that owns the task's partition, so a call for a task another
 * instance owns is forwarded there (Kafka Streams interactive queries), and the task list is
 * gathered from all instances.
 *
 * <pre>
 * GET  /tasks                                  every task: current version, head type, accuracy, paused, pinned
 * GET  /tasks/{task}                           the current version (the full model update) and the task's control
 * GET  /tasks/{task}/versions                  every version: metrics and lineage, without the artifact
 * GET  /tasks/{task}/versions/{v}              one version's full model update
 * GET  /tasks/{task}/versions/{v}/artifact     its head artifact, application/octet-stream
 * GET  /tasks/{task}/decisions                 every decision: promoted, rejected and why, rollbacks, pins, pauses
 * GET  /ui/                                    the registry's web page (tasks, versions, decisions, a chart, admin calls)
 * POST /tasks/{task}/rollback  {"version": 3, "reason": "..."}    admin: republish v3 as a new version
 * POST /tasks/{task}/pin       {"version": 3}                      admin: republish v3 and hold it
 * POST /tasks/{task}/unpin | /pause | /resume                      admin
 * </pre>
 *
 * Admin calls need {@code Authorization: Bearer <registry.admin.token>} (compared in constant
 * time) and a body of at most {@value #MAX_BODY_BYTES} bytes (else 413); they write a
 * {@link RegistryCommand} to {@code registry-commands} and answer 202: the command is applied in
 * order with the task's candidates and shows in {@code model-history} and, for rollback and pin,
 * as a new version on {@code model-updates}. Errors are answered as {@code {"error", "status"}}
 * with a message of the API's own, never an exception's text; the cause is in the log.
 */
final class RegistryApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryApi.class);
    private static final String FORWARDED = "X-Headwater-Forwarded";
    private static final String JSON = "application/json";
    /** Admin calls carry a few hundred bytes of JSON at most. */
    static final int MAX_BODY_BYTES = 16 * 1024;
    private static final Pattern TASK_PATH = Pattern.compile(
            "/tasks/([A-Za-z0-9._-]{1,128})(?:/(versions(?:/(\\d{1,18})(/artifact)?)?|decisions|rollback|pin|unpin|pause|resume))?/?");
    private static final String DECISIONS = "decisions";

    private final HttpServer server;
    private final Optional<String> adminToken;
    private final String commandsTopic;
    private final KafkaProducer<String, byte[]> producer;
    private final HttpClient http;
    private final String scheme;
    private final String bindAddress;
    private volatile KafkaStreams streams;
    private volatile HostInfo self;

    RegistryApi(RegistryConfig config) throws IOException {
        HttpEndpoint endpoint = config.apiEndpoint();
        this.server = endpoint.create(4);
        this.scheme = endpoint.scheme();
        this.bindAddress = endpoint.bindAddress();
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        config.peerTls().ifPresent(client::sslContext);
        this.http = client.build();
        this.adminToken = config.adminToken();
        this.commandsTopic = Topics.withPrefix(config.topicPrefix()).registryCommands().name();
        this.producer = new KafkaProducer<>(config.clientProperties(), new StringSerializer(),
                Serdes.ByteArray().serializer());
        server.createContext("/tasks", this::handle);
        server.createContext("/", WebPage.load(RegistryApi.class.getClassLoader())::handle);
    }

    /** Starts answering; {@code self} is this instance as the other instances know it. */
    void start(KafkaStreams kafkaStreams, HostInfo advertised) {
        this.streams = kafkaStreams;
        this.self = advertised;
        server.start();
        LOG.info("Registry API on {}://{}:{} (advertised as {}:{})", scheme, bindAddress, port(), advertised.host(),
                advertised.port());
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            boolean post = "POST".equals(ex.getRequestMethod());
            if (!post && !"GET".equals(ex.getRequestMethod())) {
                error(ex, 405, "method " + ex.getRequestMethod() + " not allowed");
                return;
            }
            if (path.equals("/tasks") || path.equals("/tasks/")) {
                if (post) {
                    error(ex, 405, "POST /tasks is not a call; see GET /tasks");
                    return;
                }
                listTasks(ex);
                return;
            }
            Matcher m = TASK_PATH.matcher(path);
            if (!m.matches()) {
                error(ex, 404, "no such resource " + path);
                return;
            }
            String task = m.group(1);
            String sub = m.group(2);
            boolean admin = sub != null && !sub.startsWith("versions") && !sub.equals(DECISIONS);
            if (admin != post) {
                error(ex, 405, (post ? "POST" : "GET") + " " + path + " is not a call");
                return;
            }
            if (admin) {
                command(ex, task, RegistryCommand.Action.valueOf(sub.toUpperCase(java.util.Locale.ROOT)));
                return;
            }
            KeyQueryMetadata owner = streams.queryMetadataForKey(RegistryTopology.CURRENT_STORE, task,
                    Serdes.String().serializer());
            if (owner == null || owner.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
                error(ex, 503, "the registry is starting or rebalancing; try again");
                return;
            }
            if (!owner.activeHost().equals(self) && ex.getRequestHeaders().getFirst(FORWARDED) == null) {
                forward(ex, owner.activeHost());
                return;
            }
            if (sub == null) {
                current(ex, task);
            } else if (sub.equals(DECISIONS)) {
                decisions(ex, task);
            } else if (m.group(3) == null) {
                versions(ex, task);
            } else {
                version(ex, task, Long.parseLong(m.group(3)), m.group(4) != null);
            }
        } catch (InvalidStateStoreException e) {
            LOG.debug("Registry API call {}: stores not ready", ex.getRequestURI(), e);
            error(ex, 503, "the registry's stores are not ready; try again");
        } catch (RuntimeException e) {
            LOG.warn("Registry API call {} failed", ex.getRequestURI(), e);
            error(ex, 500, "internal error; the registry's log has the cause");
        } finally {
            ex.close();
        }
    }

    private void listTasks(HttpExchange ex) throws IOException {
        Map<String, Map<String, Object>> tasks = new java.util.TreeMap<>();
        try (KeyValueIterator<String, ModelUpdate> it = this.<ModelUpdate>store(RegistryTopology.CURRENT_STORE).all()) {
            ReadOnlyKeyValueStore<String, TaskControl> controls = store(RegistryTopology.CONTROL_STORE);
            it.forEachRemaining(kv -> tasks.put(kv.key, summary(kv.value, controls.get(kv.key))));
        }
        if (ex.getRequestHeaders().getFirst(FORWARDED) == null) {
            for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
                if (m.hostInfo().equals(self)) {
                    continue;
                }
                Optional<HttpResponse<byte[]>> asked = ask(m.hostInfo(), "/tasks");
                if (asked.isEmpty()) {
                    unreachable(ex, m.hostInfo());
                    return;
                }
                HttpResponse<byte[]> r = asked.get();
                if (r.statusCode() != 200) {
                    error(ex, 502, "instance " + m.hostInfo().host() + ":" + m.hostInfo().port() + " answered "
                            + r.statusCode());
                    return;
                }
                for (JsonNode t : Json.MAPPER.readTree(r.body()).path("tasks")) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> row = Json.MAPPER.convertValue(t, Map.class);
                    tasks.put(t.path("task").asText(), row);
                }
            }
        }
        json(ex, 200, Map.of("tasks", new ArrayList<>(tasks.values())));
    }

    private static Map<String, Object> summary(ModelUpdate u, TaskControl c) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("task", u.task());
        row.put("version", u.version());
        row.put("headType", u.headType());
        row.put("origin", u.origin());
        row.put("examplesLearned", u.metrics().examplesLearned());
        row.put("windowedAccuracy", u.metrics().windowedAccuracy());
        row.put("createdAt", u.createdAt());
        // Which key signed the current version: during a key rotation, the tasks still to re-sign.
        row.put("signedBy", u.signature() == null ? "" : u.signature().keyId());
        row.put("paused", c != null && c.paused());
        row.put("pinnedVersion", c == null ? 0 : c.pinnedVersion());
        return row;
    }

    private void current(HttpExchange ex, String task) throws IOException {
        ModelUpdate u = this.<ModelUpdate>store(RegistryTopology.CURRENT_STORE).get(task);
        if (u == null) {
            error(ex, 404, "no task '" + task + "'");
            return;
        }
        TaskControl c = this.<TaskControl>store(RegistryTopology.CONTROL_STORE).get(task);
        Map<String, Object> out = new LinkedHashMap<>(summary(u, c));
        out.put("current", u);
        json(ex, 200, out);
    }

    private void versions(HttpExchange ex, String task) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        ReadOnlyKeyValueStore<String, ModelUpdate> store = store(RegistryTopology.VERSIONS_STORE);
        try (KeyValueIterator<String, ModelUpdate> it = store.prefixScan(task + "@", new StringSerializer())) {
            it.forEachRemaining(kv -> {
                if (kv.value.task().equals(task)) {
                    out.add(lineage(kv.value));
                }
            });
        }
        if (out.isEmpty()) {
            error(ex, 404, "no task '" + task + "'");
            return;
        }
        out.sort(Comparator.comparingLong(r -> (Long) r.get("version")));
        json(ex, 200, Map.of("task", task, "versions", out));
    }

    private void decisions(HttpExchange ex, String task) throws IOException {
        List<ModelDecision> out = new ArrayList<>();
        ReadOnlyKeyValueStore<String, ModelDecision> store = store(RegistryTopology.DECISIONS_STORE);
        try (KeyValueIterator<String, ModelDecision> it = store.prefixScan(task + "@", new StringSerializer())) {
            it.forEachRemaining(kv -> {
                if (kv.value.task().equals(task)) {
                    out.add(kv.value);
                }
            });
        }
        if (out.isEmpty()) {
            error(ex, 404, "no task '" + task + "'");
            return;
        }
        out.sort(Comparator.comparingLong(ModelDecision::sequence));
        json(ex, 200, Map.of("task", task, "decisions", out));
    }

    private static Map<String, Object> lineage(ModelUpdate u) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("version", u.version());
        row.put("parentVersion", u.parentVersion());
        row.put("origin", u.origin());
        row.put("sourceVersion", u.sourceVersion());
        row.put("headType", u.headType());
        row.put("labels", u.labels());
        row.put("backbone", u.backbone());
        row.put("metrics", u.metrics());
        row.put("provenance", u.provenance());
        row.put("artifactSha256", u.artifact().sha256());
        row.put("artifactBytes", u.artifact().bytes());
        row.put("signed", u.signature() != null);
        row.put("createdAt", u.createdAt());
        return row;
    }

    private void version(HttpExchange ex, String task, long version, boolean artifact) throws IOException {
        ModelUpdate u = this.<ModelUpdate>store(RegistryTopology.VERSIONS_STORE)
                .get(RegistryTopology.versionKey(task, version));
        if (u == null) {
            error(ex, 404, "task '" + task + "' has no version " + version);
            return;
        }
        if (!artifact) {
            json(ex, 200, u);
            return;
        }
        ex.getResponseHeaders().set("X-Headwater-Sha256", u.artifact().sha256());
        MetricsServer.respond(ex, 200, "application/octet-stream", Base64.getDecoder().decode(u.artifact().data()));
    }

    private void command(HttpExchange ex, String task, RegistryCommand.Action action) throws IOException {
        if (adminToken.isEmpty()) {
            error(ex, 403, "admin calls are disabled: set " + RegistryConfig.ADMIN_TOKEN);
            return;
        }
        String auth = Optional.ofNullable(ex.getRequestHeaders().getFirst("Authorization")).orElse("");
        if (!sameSecret(auth, "Bearer " + adminToken.get())) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            error(ex, 401, "admin calls need Authorization: Bearer <" + RegistryConfig.ADMIN_TOKEN + ">");
            return;
        }
        Optional<byte[]> read = HttpEndpoint.readBody(ex, MAX_BODY_BYTES);
        if (read.isEmpty()) {
            HttpEndpoint.tooLarge(ex, JSON, Json.MAPPER.writeValueAsString(Map.of(
                    "error", "request body over " + MAX_BODY_BYTES + " bytes", "status", 413)));
            return;
        }
        byte[] body = read.get();
        JsonNode req;
        try {
            req = body.length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            error(ex, 400, "request body is not JSON" + at(e));
            return;
        }
        if (req == null || !req.isObject()) {
            error(ex, 400, "request body is not a JSON object");
            return;
        }
        long version = req.path("version").asLong(0);
        boolean needsVersion = action == RegistryCommand.Action.ROLLBACK || action == RegistryCommand.Action.PIN;
        if (needsVersion && version < 1) {
            error(ex, 400, action.id() + " needs {\"version\": <n>} with n >= 1");
            return;
        }
        RegistryCommand cmd = new RegistryCommand(RegistryCommand.FORMAT_VERSION, UUID.randomUUID().toString(), task,
                action, needsVersion ? version : 0, req.path("actor").asText("api@" + ex.getRemoteAddress().getHostString()),
                req.path("reason").asText(""), Instant.now().toString());
        try {
            producer.send(new ProducerRecord<>(commandsTopic, task, Json.write(cmd))).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("Could not write {} of task {} to {}", action.id(), task, commandsTopic, e);
            error(ex, 503, "could not write the command to " + commandsTopic + "; the registry's log has the cause");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error(ex, 503, "interrupted");
            return;
        }
        LOG.info("Accepted {} of task {} (version {}) from {}", action.id(), task, cmd.version(), cmd.actor());
        json(ex, 202, cmd);
    }

    /** Compares two secrets in time that depends on neither: their SHA-256 digests, with MessageDigest.isEqual. */
    static boolean sameSecret(String given, String expected) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] a = sha.digest(given.getBytes(StandardCharsets.UTF_8));
            byte[] b = sha.digest(expected.getBytes(StandardCharsets.UTF_8));
            return MessageDigest.isEqual(a, b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Where a JSON parse failed, without the parser's message (which quotes the input). */
    private static String at(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr() + ")";
    }

    private void forward(HttpExchange ex, HostInfo owner) throws IOException {
        Optional<HttpResponse<byte[]>> asked = ask(owner, ex.getRequestURI().getRawPath());
        if (asked.isEmpty()) {
            unreachable(ex, owner);
            return;
        }
        HttpResponse<byte[]> r = asked.get();
        ex.getResponseHeaders().set("Content-Type",
                r.headers().firstValue("Content-Type").orElse(JSON));
        r.headers().firstValue("X-Headwater-Sha256").ifPresent(v -> ex.getResponseHeaders().set("X-Headwater-Sha256", v));
        ex.getResponseHeaders().set("X-Headwater-Answered-By", owner.host() + ":" + owner.port());
        MetricsServer.respond(ex, r.statusCode(), r.headers().firstValue("Content-Type").orElse(JSON), r.body());
    }

    /** Asks another instance; empty when it cannot be reached (refused, TLS handshake, timeout), which is logged. */
    private Optional<HttpResponse<byte[]>> ask(HostInfo host, String path) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(scheme + "://" + host.host() + ":" + host.port() + path))
                .header(FORWARDED, "1").timeout(Duration.ofSeconds(10)).GET().build();
        try {
            return Optional.of(http.send(req, HttpResponse.BodyHandlers.ofByteArray()));
        } catch (IOException e) {
            LOG.warn("Registry instance {}:{} did not answer {} {}: {}", host.host(), host.port(), scheme, path, e.toString());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static void unreachable(HttpExchange ex, HostInfo host) throws IOException {
        error(ex, 502, "registry instance " + host.host() + ":" + host.port() + " did not answer; check its "
                + RegistryConfig.API_ADVERTISED + " and the API's TLS settings");
    }

    private <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.<String, V>keyValueStore()));
    }

    private static void json(HttpExchange ex, int status, Object body) throws IOException {
        MetricsServer.respond(ex, status, JSON, Json.write(body));
    }

    static void error(HttpExchange ex, int status, String message) throws IOException {
        json(ex, status, Map.of("error", message, "status", status));
    }

    @Override
    public void close() {
        server.stop(0);
        producer.close(Duration.ofSeconds(5));
    }
}
