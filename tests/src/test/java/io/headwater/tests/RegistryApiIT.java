package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.client.LiveModel;
import io.headwater.client.ModelClient;
import io.headwater.client.Updates;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelMetrics;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.kafka.UpdateSignature;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two registry instances on a real broker: gating and its recorded reasons, the API answering the
 * same from both instances, admin calls with a bearer token, a rollback reaching a subscribed
 * client as a new signed version, and a forged signature refused by the client.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RegistryApiIT {
    static final BackboneRef BACKBONE = Updates.BACKBONE;
    static final String TOKEN = "s3cret-token";
    static final List<String> TASKS = List.of("t0", "t1", "t2", "t3", "t4", "t5");

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void shouldGateAnswerFromEveryInstanceAndRollBackToSubscribedClients() throws Exception {
        KeyPair keys = UpdateSignature.generate();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            Topics topics = Topics.withPrefix("api.");
            Map<String, String> props = new HashMap<>();
            props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
            props.put(HeadwaterConfigs.TOPIC_PARTITIONS, "4");
            props.put(RegistryConfig.API_PORT, "0");
            props.put(RegistryConfig.ADMIN_TOKEN, TOKEN);
            props.put(RegistryConfig.SIGNING_KEY, UpdateSignature.encode(keys.getPrivate()));
            props.put(RegistryConfig.SIGNING_KEY_ID, "it");
            props.put(RegistryConfig.GATE_FIRST_MIN_EXAMPLES, "10");
            props.put(RegistryConfig.GATE_MIN_WINDOW, "0");
            Map<String, Object> clientProps = HeadwaterConfigs.clientProperties(
                    HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
            SimpleMeterRegistry clientMeters = new SimpleMeterRegistry();
            List<LiveModel> swapped = new CopyOnWriteArrayList<>();
            try (Registry a = Registry.start(config(props, "a"), new SimpleMeterRegistry());
                 Registry b = Registry.start(config(props, "b"), new SimpleMeterRegistry());
                 ModelUpdateWatcher watcher = new ModelUpdateWatcher(clientProps, topics, u -> { });
                 ModelClient client = ModelClient.builder(clientProps, topics).expectedBackbone(BACKBONE)
                         .trustedKeys(Map.of("it", keys.getPublic())).meterRegistry(clientMeters).build();
                 KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                         ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                         ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MODEL_MAX_BYTES),
                         new StringSerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                client.addListener(swapped::add);
                client.start();
                // given: each task gets a too-early candidate, then versions 1 and 2
                for (String task : TASKS) {
                    send(producer, topics.modelCandidates().name(), task, candidate(task, 5, 0.9, 1));
                    send(producer, topics.modelCandidates().name(), task, candidate(task, 50, 0.8, 2));
                    send(producer, topics.modelCandidates().name(), task, candidate(task, 100, 0.9, 3));
                }
                await(() -> TASKS.stream().allMatch(t -> client.current(t).map(m -> m.version() == 2).orElse(false)),
                        "every task at version 2 on the client");

                // then: the too-early candidate was rejected with its reason, before version 1
                List<ModelDecision> t3 = watcher.decisions("t3");
                assertThat(t3).extracting(ModelDecision::decision).startsWith("rejected", "promoted", "promoted");
                assertThat(t3.get(0).reason()).startsWith("min_examples:").contains("10");

                // and both instances give the same answers, whichever owns the task
                int portA = a.apiPort().orElseThrow();
                int portB = b.apiPort().orElseThrow();
                await(() -> tasksListed(portA) == TASKS.size() && tasksListed(portB) == TASKS.size(),
                        "both instances list every task");
                for (String path : List.of("/tasks", "/tasks/t3", "/tasks/t3/versions", "/tasks/t0/versions/1")) {
                    HttpResponse<String> fromA = get(portA, path);
                    HttpResponse<String> fromB = get(portB, path);
                    assertThat(fromA.statusCode()).as(path).isEqualTo(200);
                    assertThat(fromB.body()).as(path).isEqualTo(fromA.body());
                }
                JsonNode versions = Json.MAPPER.readTree(get(portB, "/tasks/t3/versions").body()).path("versions");
                assertThat(versions).hasSize(2);
                assertThat(versions.get(1).path("parentVersion").asLong()).isEqualTo(1);
                assertThat(versions.get(1).path("provenance").path("configDigest").asText()).isEqualTo("digest-3");
                HttpResponse<byte[]> artifact = http.send(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + portA + "/tasks/t3/versions/1/artifact")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(HeadArtifact.sha256(artifact.body()))
                        .isEqualTo(artifact.headers().firstValue("X-Headwater-Sha256").orElseThrow())
                        .isEqualTo(versions.get(0).path("artifactSha256").asText());
                assertThat(get(portA, "/tasks/nope").statusCode()).isEqualTo(404);

                // when: a worse candidate arrives, it is rejected with the gate's reason
                send(producer, topics.modelCandidates().name(), "t3", candidate("t3", 150, 0.5, 4));
                await(() -> watcher.decisions("t3").size() == 4, "the worse candidate decided");
                assertThat(watcher.decisions("t3").get(3).reason()).startsWith("gate:");

                // when: admin calls without and with the token
                assertThat(post(portB, "/tasks/t3/rollback", "{\"version\": 1}", null).statusCode()).isEqualTo(401);
                assertThat(post(portB, "/tasks/t3/rollback", "{\"version\": 1}", "wrong").statusCode()).isEqualTo(401);
                assertThat(post(portB, "/tasks/t3/rollback", "{}", TOKEN).statusCode()).isEqualTo(400);
                HttpResponse<String> accepted = post(portB, "/tasks/t3/rollback",
                        "{\"version\": 1, \"reason\": \"v2 misbehaves\", \"actor\": \"alice\"}", TOKEN);
                assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);

                // then: the rollback reaches the subscribed client as version 3, signed, with v1's head
                await(() -> client.current("t3").map(m -> m.version() == 3).orElse(false), "rollback on the client");
                ModelUpdate rolledBack = client.current("t3").orElseThrow().update();
                assertThat(rolledBack.origin()).isEqualTo(ModelUpdate.ROLLBACK);
                assertThat(rolledBack.sourceVersion()).isEqualTo(1);
                assertThat(rolledBack.artifact().sha256()).isEqualTo(versions.get(0).path("artifactSha256").asText());
                assertThat(UpdateSignature.verifies(rolledBack, keys.getPublic())).isTrue();
                await(() -> watcher.decisions("t3").size() == 5, "the rollback recorded");
                ModelDecision recorded = watcher.decisions("t3").get(4);
                assertThat(recorded.decision()).isEqualTo("rollback");
                assertThat(recorded.actor()).isEqualTo("alice");
                assertThat(recorded.reason()).contains("v2 misbehaves");

                // when: publishing is paused, the next candidate is rejected as paused
                assertThat(post(portA, "/tasks/t3/pause", "", TOKEN).statusCode()).isEqualTo(202);
                await(() -> watcher.decisions("t3").size() == 6, "the pause recorded");
                send(producer, topics.modelCandidates().name(), "t3", candidate("t3", 200, 0.99, 5));
                await(() -> watcher.decisions("t3").size() == 7, "the paused candidate decided");
                assertThat(watcher.decisions("t3").get(6).reasonCode()).isEqualTo("paused");
                assertThat(Json.MAPPER.readTree(get(portA, "/tasks/t3").body()).path("paused").asBoolean()).isTrue();

                // and: an update with a forged signature is refused by the client and counted
                ModelUpdate forged = rolledBack.republish(4, 3, ModelUpdate.ROLLBACK, Instant.now().toString())
                        .withSignature(rolledBack.signature());
                send(producer, topics.modelUpdates().name(), "t3", Json.write(forged));
                await(() -> clientMeters.get("headwater.client.refused").tag("reason", "signature").counter().count() == 1,
                        "the forged update refused");
                assertThat(client.current("t3").orElseThrow().version()).isEqualTo(3);
            }
        }
    }

    static RegistryConfig config(Map<String, String> props, String instance) throws Exception {
        Map<String, String> p = new HashMap<>(props);
        p.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("registry-" + instance).toString());
        return new RegistryConfig(p);
    }

    static byte[] candidate(String task, long examples, double accuracy, int seed) {
        byte[] head = Updates.head(seed + 1, BACKBONE.dimension()).encode();
        return Json.write(new ModelCandidate(ModelCandidate.FORMAT_VERSION, task, "lda", List.of("yes", "no"), BACKBONE,
                Base64.getEncoder().encodeToString(head), ModelMetrics.of(examples, accuracy, 500, (int) examples),
                Map.of("0", examples), "it", Instant.now().toString(), Instant.now().toString(), "digest-" + seed));
    }

    static void send(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get();
    }

    int tasksListed(int port) {
        try {
            HttpResponse<String> r = get(port, "/tasks");
            return r.statusCode() == 200 ? Json.MAPPER.readTree(r.body()).path("tasks").size() : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(int port, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
