package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.client.ModelClient;
import io.headwater.client.Updates;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
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
import java.security.PublicKey;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A signing-key rotation as the README describes it, on a real broker and registry: consumers trust
 * the old and the new key, the registry switches to the new one, the tasks that have not published
 * since are re-signed, and consumers drop the old key. A consumer following throughout never
 * refuses an update; afterwards, old-key updates are refused.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KeyRotationIT {
    static final String TOKEN = "rotation-token-0123456789";

    @Test
    void shouldRotateTheSigningKeyWithoutAGapAndRefuseOldKeyUpdatesAfterwards() throws Exception {
        KeyPair old = UpdateSignature.generate();
        KeyPair next = UpdateSignature.generate();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            Topics topics = Topics.withPrefix("rot.");
            Map<String, String> props = new HashMap<>();
            props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
            props.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("rotation").toString());
            props.put(RegistryConfig.API_PORT, "0");
            props.put(RegistryConfig.API_BIND_ADDRESS, "127.0.0.1");
            props.put(RegistryConfig.ADMIN_TOKEN, TOKEN);
            props.put(RegistryConfig.GATE_FIRST_MIN_EXAMPLES, "10");
            props.put(RegistryConfig.GATE_MIN_WINDOW, "0");
            // The restarted registry takes its partitions back once the old member's session expires.
            props.put("session.timeout.ms", "6000");
            props.put("heartbeat.interval.ms", "1000");
            Map<String, Object> clientProps = HeadwaterConfigs.clientProperties(
                    HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
            SimpleMeterRegistry followerMeters = new SimpleMeterRegistry();
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MODEL_MAX_BYTES),
                    new StringSerializer(), new ByteArraySerializer());
                 // step 1: consumers trust the old and the new key
                 ModelClient follower = client(clientProps, topics, Map.of("reg-1", old.getPublic(),
                         "reg-2", next.getPublic()), followerMeters)) {
                // given: versions 1 of two tasks, signed with the old key
                try (Registry registry = Registry.start(registryConfig(props, "reg-1", old), new SimpleMeterRegistry())) {
                    RegistryApiIT.send(producer, topics.modelCandidates().name(), "a", RegistryApiIT.candidate("a", 50, 0.8, 1));
                    RegistryApiIT.send(producer, topics.modelCandidates().name(), "b", RegistryApiIT.candidate("b", 50, 0.8, 1));
                    RegistryApiIT.await(() -> version(follower, "a") == 1 && version(follower, "b") == 1, "v1 of a and b");
                }
                assertThat(follower.current("a").orElseThrow().update().signature().keyId()).isEqualTo("reg-1");

                // step 2: the registry restarts with the new key; task a publishes v2 under it
                try (Registry registry = Registry.start(registryConfig(props, "reg-2", next), new SimpleMeterRegistry())) {
                    RegistryApiIT.send(producer, topics.modelCandidates().name(), "a", RegistryApiIT.candidate("a", 100, 0.85, 2));
                    RegistryApiIT.await(() -> version(follower, "a") == 2, "v2 of a");
                    assertThat(follower.current("a").orElseThrow().update().signature().keyId()).isEqualTo("reg-2");

                    // step 3: the task still on the old key is re-signed: its current version republished
                    int port = registry.apiPort().orElseThrow();
                    JsonNode before = tasks(port);
                    assertThat(before).extracting(t -> t.path("task").asText() + "=" + t.path("signedBy").asText())
                            .containsExactlyInAnyOrder("a=reg-2", "b=reg-1");
                    HttpResponse<String> resign = untilNot503(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/tasks/b/rollback"))
                            .header("Authorization", "Bearer " + TOKEN)
                            .POST(HttpRequest.BodyPublishers.ofString("{\"version\": 1, \"reason\": \"re-sign with reg-2\"}"))
                            .build());
                    assertThat(resign.statusCode()).as(resign.body()).isEqualTo(202);
                    RegistryApiIT.await(() -> version(follower, "b") == 2, "b re-signed as v2");
                    ModelUpdate b2 = follower.current("b").orElseThrow().update();
                    assertThat(b2.signature().keyId()).isEqualTo("reg-2");
                    assertThat(b2.sourceVersion()).isEqualTo(1);
                    RegistryApiIT.await(() -> tasks(port).size() == 2
                            && tasks(port).findValuesAsText("signedBy").stream().allMatch("reg-2"::equals),
                            "every task signed with reg-2");
                }
                // then: the follower, trusting both keys throughout, refused nothing
                assertThat(followerMeters.get("headwater.client.refused").counters())
                        .allSatisfy(c -> assertThat(c.count()).as(c.getId().getTag("reason")).isZero());

                // step 4: consumers trust only the new key; a fresh one reads the whole topic
                SimpleMeterRegistry afterMeters = new SimpleMeterRegistry();
                try (ModelClient after = client(clientProps, topics, Map.of("reg-2", next.getPublic()), afterMeters)) {
                    RegistryApiIT.await(() -> version(after, "a") == 2 && version(after, "b") == 2, "new-key versions");
                    // when: an update signed with the old key appears (a stale instance, a leaked key)
                    ModelUpdate stale = UpdateSignature.sign(Updates.update("a", 3, Updates.BACKBONE), "reg-1",
                            old.getPrivate());
                    RegistryApiIT.send(producer, topics.modelUpdates().name(), "a", Json.write(stale));
                    // then: it is refused as untrusted, like the old-key versions 1 before it, and v2 serves on
                    RegistryApiIT.await(() -> afterMeters.get("headwater.client.refused").tag("reason", "untrusted_key")
                            .counter().count() == 3, "three old-key updates refused");
                    assertThat(version(after, "a")).isEqualTo(2);
                    assertThat(version(after, "b")).isEqualTo(2);
                }
            }
        }
    }

    static RegistryConfig registryConfig(Map<String, String> props, String keyId, KeyPair keys) {
        Map<String, String> p = new HashMap<>(props);
        p.put(RegistryConfig.SIGNING_KEY, UpdateSignature.encode(keys.getPrivate()));
        p.put(RegistryConfig.SIGNING_KEY_ID, keyId);
        return new RegistryConfig(p);
    }

    static ModelClient client(Map<String, Object> clientProps, Topics topics, Map<String, PublicKey> trusted,
                              SimpleMeterRegistry meters) {
        return ModelClient.builder(clientProps, topics).expectedBackbone(Updates.BACKBONE).trustedKeys(trusted)
                .meterRegistry(meters).build().start();
    }

    static long version(ModelClient client, String task) {
        return client.current(task).map(m -> m.version()).orElse(0L);
    }

    /** The task list; asked again while the registry answers 503 (starting or rebalancing: "try again"). */
    static JsonNode tasks(int port) {
        try {
            HttpResponse<String> r = untilNot503(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/tasks")).build());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            return Json.MAPPER.readTree(r.body()).path("tasks");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Sends the request, again while the answer is 503, for up to a minute: the restarted registry
     * rebalances once more when the old instance's session expires, and answers 503 meanwhile.
     */
    static HttpResponse<String> untilNot503(HttpRequest request) {
        long deadline = System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos();
        try {
            while (true) {
                HttpResponse<String> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 503 || System.nanoTime() > deadline) {
                    return r;
                }
                Thread.sleep(200);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
