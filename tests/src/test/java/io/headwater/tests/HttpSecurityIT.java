package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.headwater.client.Updates;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The registry API and serving locked down, on a real broker with the real backbone: HTTPS from a
 * keystore made for the run (two registry instances forwarding to each other over it), a bad or
 * missing admin token answered 401, oversized bodies 413 without being read, and error answers
 * that carry the API's own words, never an exception's text.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class HttpSecurityIT {
    static final String TOKEN = "an-admin-token-of-some-length";
    static final List<String> TASKS = List.of("t0", "t1", "t2", "t3", "t4", "t5");
    /** What an exception's text in a body would look like: class names, frames, parser messages. */
    static final List<String> EXCEPTION_TEXT = List.of("Exception", "\tat ", "java.", "org.apache", "Unexpected character",
            "KafkaStreams", "com.fasterxml");

    EmbeddedKafkaBroker broker;
    TestTls tls;
    HttpClient https;
    Path dir;
    final Topics topics = Topics.withPrefix("http.");
    final Map<String, String> props = new HashMap<>();

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("headwater-http-it-");
        tls = TestTls.generate(dir, "api");
        https = HttpClient.newBuilder().sslContext(tls.clientContext()).build();
        broker = EmbeddedKafkaBroker.start();
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(HeadwaterConfigs.TOPIC_PARTITIONS, "4");
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    Map<String, String> registryProps(String instance, boolean withTls) throws Exception {
        Map<String, String> p = new HashMap<>(props);
        p.put(RegistryConfig.STATE_DIR, Files.createTempDirectory(dir, "registry-" + instance).toString());
        p.put(RegistryConfig.API_PORT, "0");
        p.put(RegistryConfig.API_BIND_ADDRESS, "127.0.0.1");
        p.put(RegistryConfig.ADMIN_TOKEN, TOKEN);
        p.put(RegistryConfig.GATE_FIRST_MIN_EXAMPLES, "10");
        if (withTls) {
            p.put(RegistryConfig.API_TLS_KEYSTORE, tls.keystore().toString());
            p.put(RegistryConfig.API_TLS_KEYSTORE_PASSWORD, tls.password());
            p.put(RegistryConfig.API_TLS_TRUSTSTORE, tls.truststore().toString());
            p.put(RegistryConfig.API_TLS_TRUSTSTORE_PASSWORD, tls.password());
        }
        return p;
    }

    @Test
    void shouldServeTheRegistryApiOverTlsBetweenInstancesAndGuardItsAdminCalls() throws Exception {
        try (Registry a = Registry.start(new RegistryConfig(registryProps("a", true)), new SimpleMeterRegistry());
             Registry b = Registry.start(new RegistryConfig(registryProps("b", true)), new SimpleMeterRegistry());
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MODEL_MAX_BYTES),
                     new StringSerializer(), new ByteArraySerializer())) {
            // given: a version of every task, spread over both instances' partitions
            for (String task : TASKS) {
                RegistryApiIT.send(producer, topics.modelCandidates().name(), task, RegistryApiIT.candidate(task, 50, 0.8, 1));
            }
            int portA = a.apiPort().orElseThrow();
            int portB = b.apiPort().orElseThrow();
            RegistryApiIT.await(() -> listed(portA) == TASKS.size() && listed(portB) == TASKS.size(),
                    "both instances list every task over HTTPS");

            // then: each instance answers every task, forwarding over HTTPS to the one that owns it
            int forwarded = 0;
            for (String task : TASKS) {
                HttpResponse<String> fromA = get(portA, "/tasks/" + task);
                assertThat(fromA.statusCode()).as(task).isEqualTo(200);
                assertThat(Json.MAPPER.readTree(fromA.body()).path("version").asLong()).isEqualTo(1);
                forwarded += fromA.headers().firstValue("X-Headwater-Answered-By").isPresent() ? 1 : 0;
            }
            assertThat(forwarded).as("tasks answered by the other instance").isBetween(1, TASKS.size() - 1);

            // when: admin calls come without the token, with a wrong one, or a prefix of the right one
            String path = "/tasks/t1/pause";
            HttpResponse<String> none = post(portA, path, BodyPublishers.ofString(""), null);
            HttpResponse<String> wrong = post(portA, path, BodyPublishers.ofString(""), "Bearer not-" + TOKEN);
            HttpResponse<String> prefix = post(portA, path, BodyPublishers.ofString(""), "Bearer " + TOKEN.substring(0, 8));
            HttpResponse<String> longer = post(portA, path, BodyPublishers.ofString(""), "Bearer " + TOKEN + "x");
            // then: 401, asking for a bearer token
            for (HttpResponse<String> r : List.of(none, wrong, prefix, longer)) {
                assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).contains("Bearer");
                assertThat(r.body()).contains("admin calls need Authorization: Bearer <registry.admin.token>");
            }

            // when: a body over the limit, declared or chunked
            byte[] big = ("{\"version\": 1, \"reason\": \"" + "x".repeat(20_000) + "\"}").getBytes();
            HttpResponse<String> declared = post(portA, "/tasks/t1/rollback", BodyPublishers.ofByteArray(big), "Bearer " + TOKEN);
            HttpResponse<String> chunked = post(portA, "/tasks/t1/rollback",
                    BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)), "Bearer " + TOKEN);
            // then: 413, and no command was written
            for (HttpResponse<String> r : List.of(declared, chunked)) {
                assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
                assertThat(Json.MAPPER.readTree(r.body()).path("error").asText()).isEqualTo("request body over 16384 bytes");
            }
            assertThat(TopicReader.read(HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(),
                    props)), topics.registryCommands().name(), new StringDeserializer(), new StringDeserializer(),
                    "read_committed", Integer.MAX_VALUE, Duration.ofSeconds(5))).isEmpty();

            // and: a good call over HTTPS is accepted, and the list shows which key signed each version
            HttpResponse<String> ok = post(portB, path, BodyPublishers.ofString("{\"reason\": \"maintenance\"}"),
                    "Bearer " + TOKEN);
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(202);
            JsonNode listed = Json.MAPPER.readTree(get(portB, "/tasks").body()).path("tasks");
            assertThat(listed).allSatisfy(t -> assertThat(t.path("signedBy").asText()).isEmpty());

            // and: malformed requests are answered in the API's own words
            HttpResponse<String> notJson = post(portA, "/tasks/t2/rollback", BodyPublishers.ofString("{\"version\": 1,,}"),
                    "Bearer " + TOKEN);
            assertThat(notJson.statusCode()).isEqualTo(400);
            assertThat(Json.MAPPER.readTree(notJson.body()).path("error").asText())
                    .isEqualTo("request body is not JSON (line 1, column 15)");
            HttpResponse<String> array = post(portA, "/tasks/t2/rollback", BodyPublishers.ofString("[1]"), "Bearer " + TOKEN);
            assertThat(array.statusCode()).isEqualTo(400);
            assertThat(array.body()).contains("request body is not a JSON object");
            for (HttpResponse<String> r : List.of(none, declared, notJson, array, get(portA, "/tasks/t9"),
                    get(portA, "/tasks/t1/versions/99"), get(portA, "/tasks/t1/nothing"))) {
                assertThat(r.body()).as(r.uri() + " " + r.statusCode()).doesNotContain(EXCEPTION_TEXT);
            }
        }
    }

    @Test
    void shouldAnswerFailuresInsideTheApiWithoutExceptionText() throws Exception {
        // given: two instances of another registry, the second advertising an address nobody answers on
        Map<String, String> p = registryProps("c", false);
        p.put(HeadwaterConfigs.TOPIC_PREFIX, "http-c.");
        p.put(RegistryConfig.APPLICATION_ID, "headwater-registry-c");
        Map<String, String> q = new HashMap<>(p);
        q.put(RegistryConfig.STATE_DIR, Files.createTempDirectory(dir, "registry-d").toString());
        q.put(RegistryConfig.API_ADVERTISED, "localhost:1");
        try (Registry c = Registry.start(new RegistryConfig(p), new SimpleMeterRegistry());
             Registry d = Registry.start(new RegistryConfig(q), new SimpleMeterRegistry())) {
            RegistryApiIT.await(() -> c.streams().streams().state() == org.apache.kafka.streams.KafkaStreams.State.RUNNING
                    && c.streams().streams().metadataForAllStreamsClients().size() == 2
                    && c.streams().streams().metadataForAllStreamsClients().stream()
                            .allMatch(m -> !m.topicPartitions().isEmpty()), "both instances with partitions");
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + c.apiPort().orElseThrow();

            // when: calls that need the unreachable instance
            HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(base + "/tasks")).build(),
                    HttpResponse.BodyHandlers.ofString());
            List<HttpResponse<String>> perTask = new java.util.ArrayList<>();
            for (int i = 0; i < 20; i++) {
                perTask.add(http.send(HttpRequest.newBuilder(URI.create(base + "/tasks/task-" + i)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            // then: 502 naming the instance and what to check; the others' own tasks are simply not there
            String unreachable = "registry instance localhost:1 did not answer; check its registry.api.advertised.host "
                    + "and the API's TLS settings";
            assertThat(list.statusCode()).isEqualTo(502);
            assertThat(Json.MAPPER.readTree(list.body()).path("error").asText()).isEqualTo(unreachable);
            assertThat(perTask).extracting(HttpResponse::statusCode).contains(502, 404).containsOnly(502, 404);
            assertThat(perTask).filteredOn(r -> r.statusCode() == 502)
                    .allSatisfy(r -> assertThat(Json.MAPPER.readTree(r.body()).path("error").asText()).isEqualTo(unreachable));

            // when: Kafka Streams stops under the API
            c.streams().close();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/tasks/t0")).build(),
                    HttpResponse.BodyHandlers.ofString());
            // then: 500 with a message of the API's own; the cause is only in the log
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(Json.MAPPER.readTree(r.body()).path("error").asText())
                    .isEqualTo("internal error; the registry's log has the cause");
            for (HttpResponse<String> answer : List.of(list, r, perTask.get(0))) {
                assertThat(answer.body()).doesNotContain(EXCEPTION_TEXT).doesNotContain("not running")
                        .doesNotContain("Connection refused");
            }
        }
    }

    @Test
    void shouldServePredictionsOverTlsCapRequestBodiesAndHideExceptionText() throws Exception {
        // given: serving over HTTPS, bodies up to 2 kB, and a published version for the real backbone
        Backbone backbone = Backbone.load(BackboneSpec.defaults());
        Map<String, String> p = new HashMap<>(props);
        p.put(ServingConfig.PORT, "0");
        p.put(ServingConfig.BIND_ADDRESS, "127.0.0.1");
        p.put(ServingConfig.REQUEST_MAX_BYTES, "2048");
        p.put(ServingConfig.TLS_KEYSTORE, tls.keystore().toString());
        p.put(ServingConfig.TLS_KEYSTORE_PASSWORD, tls.password());
        BackboneRef ref = new BackboneRef(backbone.id(), backbone.sha256(), backbone.dimension());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            Topics.ensure(admin, List.of(topics.modelUpdates()), 4, (short) -1);
        }
        try (Serving serving = Serving.start(new ServingConfig(p), backbone,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
             KafkaProducer<String, ModelUpdate> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MODEL_MAX_BYTES),
                     new StringSerializer(), topics.modelUpdates().valueSerde().serializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.modelUpdates().name(), "news",
                    Updates.update("news", 1, ref))).get();
            RegistryApiIT.await(() -> serving.client().current("news").isPresent(), "serving has news v1");
            URI predict = URI.create("https://localhost:" + serving.port() + "/predict");

            // when / then: a request within the limit is answered over TLS
            HttpResponse<String> ok = https.send(HttpRequest.newBuilder(predict).POST(BodyPublishers.ofString(
                    "{\"task\": \"news\", \"text\": \"markets rallied\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(Json.MAPPER.readTree(ok.body()).path("version").asLong()).isEqualTo(1);

            // and bodies over it, declared or chunked, get 413 without being read
            byte[] big = ("{\"task\": \"news\", \"text\": \"" + "y".repeat(3000) + "\"}").getBytes();
            for (BodyPublisher body : List.of(BodyPublishers.ofByteArray(big),
                    BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))) {
                HttpResponse<String> r = https.send(HttpRequest.newBuilder(predict).POST(body).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(413);
                assertThat(Json.MAPPER.readTree(r.body()).path("error").asText())
                        .isEqualTo("request body over 2048 bytes (serving.request.max.bytes)");
            }

            // and malformed JSON is answered with where, not with the parser's message
            HttpResponse<String> bad = https.send(HttpRequest.newBuilder(predict).POST(BodyPublishers.ofString(
                    "{\"task\": news}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(Json.MAPPER.readTree(bad.body()).path("error").asText())
                    .isEqualTo("request is not valid JSON (line 1, column 15)");

            // when: embedding fails (the backbone is closed under serving)
            backbone.close();
            HttpResponse<String> failed = https.send(HttpRequest.newBuilder(predict).POST(BodyPublishers.ofString(
                    "{\"task\": \"news\", \"text\": \"markets fell\"}")).build(), HttpResponse.BodyHandlers.ofString());
            // then: 500 in serving's own words
            assertThat(failed.statusCode()).isEqualTo(500);
            assertThat(Json.MAPPER.readTree(failed.body()).path("error").asText())
                    .isEqualTo("internal error; the serving log has the cause");
            for (HttpResponse<String> r : List.of(bad, failed)) {
                assertThat(r.body()).doesNotContain(EXCEPTION_TEXT);
            }
        }
    }

    int listed(int port) {
        try {
            HttpResponse<String> r = get(port, "/tasks");
            return r.statusCode() == 200 ? Json.MAPPER.readTree(r.body()).path("tasks").size() : -1;
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    HttpResponse<String> get(int port, String path) throws java.io.IOException, InterruptedException {
        return https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(int port, String path, BodyPublisher body, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + port + path)).POST(body);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return https.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
