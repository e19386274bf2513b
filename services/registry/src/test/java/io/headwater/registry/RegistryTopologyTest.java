package io.headwater.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import io.headwater.core.DenseLayer;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelMetrics;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.RegistryCommand;
import io.headwater.kafka.Topics;
import io.headwater.kafka.UpdateSignature;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyPair;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RegistryTopologyTest {
    static final String SHA = "c".repeat(64);

    TopologyTestDriver driver;
    TestInputTopic<String, byte[]> candidates;
    TestInputTopic<String, byte[]> commands;
    TestOutputTopic<String, ModelUpdate> updates;
    TestOutputTopic<String, ModelDecision> history;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();

    void start(Map<String, String> extra) throws Exception {
        Map<String, String> props = new HashMap<>(extra);
        props.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("registry-test").toString());
        props.putIfAbsent(RegistryConfig.GATE_FIRST_MIN_EXAMPLES, "1");
        props.putIfAbsent(RegistryConfig.GATE_MIN_WINDOW, "0");
        RegistryConfig config = new RegistryConfig(props);
        Properties p = new Properties();
        p.putAll(Registry.streamsOverrides(config));
        driver = new TopologyTestDriver(RegistryTopology.build(config, meters), p);
        Topics topics = Topics.withPrefix("headwater.");
        candidates = driver.createInputTopic(topics.modelCandidates().name(), Serdes.String().serializer(),
                Serdes.ByteArray().serializer());
        commands = driver.createInputTopic(topics.registryCommands().name(), Serdes.String().serializer(),
                Serdes.ByteArray().serializer());
        updates = driver.createOutputTopic(topics.modelUpdates().name(), Serdes.String().deserializer(),
                topics.modelUpdates().valueSerde().deserializer());
        history = driver.createOutputTopic(topics.modelHistory().name(), Serdes.String().deserializer(),
                topics.modelHistory().valueSerde().deserializer());
    }

    @AfterEach
    void tearDown() {
        if (driver != null) {
            driver.close();
        }
    }

    static byte[] artifact(int inputs, float weight) {
        float[] w = new float[2 * inputs];
        java.util.Arrays.fill(w, weight);
        return new HeadArtifact(List.of("no", "yes"), List.of(new DenseLayer(inputs, 2, w, new float[] {0, 0},
                DenseLayer.Activation.SOFTMAX))).encode();
    }

    static byte[] candidate(String task, long examples, byte[] artifact, int dimension) {
        return candidate(task, examples, 0.9, 500, artifact, dimension);
    }

    static byte[] candidate(String task, long examples, double accuracy, int windowCount, byte[] artifact, int dimension) {
        return candidate(task, "lda", examples, accuracy, windowCount, artifact, dimension);
    }

    static byte[] candidate(String task, String head, long examples, double accuracy, int windowCount, byte[] artifact,
                            int dimension) {
        return Json.write(new ModelCandidate(1, task, head, List.of("no", "yes"), new BackboneRef("bb", SHA, dimension),
                Base64.getEncoder().encodeToString(artifact), ModelMetrics.of(examples, accuracy, 500, windowCount),
                Map.of("0", examples - 1), "trainer", "2026-11-27T00:00:00Z", "2026-11-27T00:00:00Z", "d"));
    }

    void command(String task, RegistryCommand.Action action, long version) {
        commands.pipeInput(task, Json.write(new RegistryCommand(1, "c-" + action, task, action, version, "alice",
                "test", "2026-11-27T00:00:00Z")));
    }

    double rejected(String reason) {
        return meters.get("headwater.registry.rejected").tag("reason", reason).counter().count();
    }

    @Test
    void shouldDeadLetterWhatItCannotDecodeAndGoOn() throws Exception {
        start(Map.of());
        var dlq = driver.createOutputTopic(Topics.withPrefix("headwater.").registryDlq().name(),
                Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        byte[] notJson = "{not json".getBytes(StandardCharsets.UTF_8);
        // when: bad candidates and commands between good candidates
        candidates.pipeInput("a", candidate("a", 10, artifact(4, 0.1f), 4));
        candidates.pipeInput((String) null, candidate("a", 11, artifact(4, 0.1f), 4));
        candidates.pipeInput("a", notJson);
        candidates.pipeInput("a", "{\"formatVersion\": 1, \"task\": \"a\", \"metrics\": null}"
                .getBytes(StandardCharsets.UTF_8));
        commands.pipeInput("a", notJson);
        commands.pipeInput("a", (byte[]) null);
        commands.pipeInput("a", Json.write(new RegistryCommand(1, "c-x", "b", RegistryCommand.Action.PAUSE, 0, "eve",
                "", "2026-11-27T00:00:00Z")));
        candidates.pipeInput("a", candidate("a", 20, artifact(4, 0.2f), 4));
        // then: each is a dead letter with its reason and where it came from
        var dead = dlq.readRecordsToList();
        assertThat(dead).extracting(r -> io.headwater.kafka.DeadLetters.header(r.headers(),
                io.headwater.kafka.DeadLetters.ERROR)).containsExactly("key", "invalid", "invalid", "command", "command",
                "command");
        assertThat(dead).extracting(r -> io.headwater.kafka.DeadLetters.header(r.headers(),
                io.headwater.kafka.DeadLetters.SOURCE_TOPIC)).containsExactly("headwater.model-candidates",
                "headwater.model-candidates", "headwater.model-candidates", "headwater.registry-commands",
                "headwater.registry-commands", "headwater.registry-commands");
        assertThat(dead.get(1).value()).isEqualTo(notJson);
        // and the good candidates around them became versions 1 and 2
        assertThat(updates.readValuesToList()).extracting(ModelUpdate::version).containsExactly(1L, 2L);
        assertThat(rejected("invalid")).isEqualTo(2);
        assertThat(meters.get("headwater.registry.dlq").tag("reason", "command").counter().count()).isEqualTo(3);
    }

    @Test
    void shouldNumberVersionsPerTaskWithoutGaps() throws Exception {
        start(Map.of());
        // when
        candidates.pipeInput("a", candidate("a", 10, artifact(4, 0.1f), 4));
        candidates.pipeInput("b", candidate("b", 5, artifact(4, 0.1f), 4));
        candidates.pipeInput("a", candidate("a", 20, artifact(4, 0.2f), 4));
        candidates.pipeInput("a", candidate("a", 30, artifact(4, 0.3f), 4));
        // then
        List<KeyValue<String, ModelUpdate>> out = updates.readKeyValuesToList();
        assertThat(out).extracting(kv -> kv.key + "@" + kv.value.version() + "<" + kv.value.parentVersion())
                .containsExactly("a@1<0", "b@1<0", "a@2<1", "a@3<2");
        ModelUpdate a3 = out.get(3).value;
        byte[] bytes = Base64.getDecoder().decode(a3.artifact().data());
        assertThat(a3.artifact().sha256()).isEqualTo(HeadArtifact.sha256(bytes));
        assertThat(a3.artifact().bytes()).isEqualTo(bytes.length);
        assertThat(a3.metrics().examplesLearned()).isEqualTo(30);
        assertThat(a3.backbone().sha256()).isEqualTo(SHA);
        assertThat(a3.origin()).isEqualTo(ModelUpdate.PROMOTED);
        assertThat(a3.signature()).isNull();
        assertThat(history.readKeyValuesToList()).extracting(kv -> kv.key + " " + kv.value.decision() + " v" + kv.value.version())
                .containsExactly("a@1 promoted v1", "b@1 promoted v1", "a@2 promoted v2", "a@3 promoted v3");
        assertThat(meters.get("headwater.registry.promoted").counter().count()).isEqualTo(4);
    }

    @Test
    void shouldRejectMalformedCandidatesAndKeepNumbering() throws Exception {
        start(Map.of());
        // given
        byte[] nan = artifact(4, 0.1f);
        // patch the first weight (after magic, version, labels, layer header) to NaN
        java.nio.ByteBuffer.wrap(nan).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(nan.length - 4 * (8 + 2), Float.NaN);
        // when
        candidates.pipeInput("a", candidate("a", 10, artifact(4, 0.1f), 4));
        candidates.pipeInput("a", candidate("a", 20, nan, 4));
        candidates.pipeInput("a", candidate("a", 30, artifact(4, 0.1f), 8));
        candidates.pipeInput("a", "not json".getBytes(StandardCharsets.UTF_8));
        candidates.pipeInput("b", candidate("a", 30, artifact(4, 0.1f), 4));
        candidates.pipeInput("a", candidate("a", 40, artifact(4, 0.4f), 4));
        // then
        assertThat(updates.readValuesToList()).extracting(u -> u.version() + ":" + u.metrics().examplesLearned())
                .containsExactly("1:10", "2:40");
        assertThat(rejected("invalid")).isEqualTo(4);
        assertThat(history.readValuesToList()).extracting(ModelDecision::decision, ModelDecision::reasonCode)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("promoted", ""),
                        org.assertj.core.groups.Tuple.tuple("rejected", "invalid"),
                        org.assertj.core.groups.Tuple.tuple("rejected", "invalid"),
                        org.assertj.core.groups.Tuple.tuple("rejected", "invalid"),
                        org.assertj.core.groups.Tuple.tuple("rejected", "invalid"),
                        org.assertj.core.groups.Tuple.tuple("promoted", ""));
    }

    @Test
    void shouldGateOnMarginWindowFloorAndFirstExamples() throws Exception {
        start(Map.of(RegistryConfig.GATE_MARGIN, "0.05", RegistryConfig.GATE_MIN_WINDOW, "100", RegistryConfig.GATE_NOISE_Z, "0",
                RegistryConfig.GATE_FLOOR, "0.5", RegistryConfig.GATE_FIRST_MIN_EXAMPLES, "50"));
        // when
        candidates.pipeInput("a", candidate("a", 20, 0.9, 20, artifact(4, 0.1f), 4));    // too few examples
        candidates.pipeInput("a", candidate("a", 60, 0.4, 60, artifact(4, 0.1f), 4));    // below the floor
        candidates.pipeInput("a", candidate("a", 80, 0.9, 80, artifact(4, 0.1f), 4));    // v1
        candidates.pipeInput("a", candidate("a", 90, 0.95, 90, artifact(4, 0.1f), 4));   // window too small
        candidates.pipeInput("a", candidate("a", 200, 0.84, 200, artifact(4, 0.2f), 4)); // worse by 0.06
        candidates.pipeInput("a", candidate("a", 300, 0.86, 300, artifact(4, 0.3f), 4)); // worse by 0.04: v2
        // then
        assertThat(updates.readValuesToList()).extracting(u -> u.version() + ":" + u.metrics().examplesLearned())
                .containsExactly("1:80", "2:300");
        List<ModelDecision> decisions = history.readValuesToList();
        assertThat(decisions).extracting(ModelDecision::sequence).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(decisions).extracting(ModelDecision::reasonCode)
                .containsExactly("min_examples", "floor", "", "min_examples", "gate", "");
        assertThat(decisions.get(4).reason()).contains("0.8400", "0.9000");
        assertThat(decisions.get(4).candidate().metrics().examplesLearned()).isEqualTo(200);
        assertThat(rejected("gate")).isEqualTo(1);
        assertThat(rejected("floor")).isEqualTo(1);
        assertThat(rejected("min_examples")).isEqualTo(2);
        // and the decisions store (the API's GET /tasks/a/decisions) keeps each one, without its update
        org.apache.kafka.streams.state.KeyValueStore<String, ModelDecision> kept =
                driver.getKeyValueStore(RegistryTopology.DECISIONS_STORE);
        List<ModelDecision> stored = new java.util.ArrayList<>();
        kept.all().forEachRemaining(kv -> stored.add(kv.value));
        assertThat(stored).extracting(ModelDecision::sequence).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(stored).extracting(ModelDecision::reason).containsExactlyElementsOf(
                decisions.stream().map(ModelDecision::reason).toList());
        assertThat(stored).extracting(ModelDecision::version).containsExactly(0L, 0L, 1L, 0L, 0L, 2L);
        assertThat(stored).allSatisfy(d -> assertThat(d.update()).isNull());
        assertThat(decisions.get(2).update()).isNotNull();
    }

    @Test
    void shouldWidenTheMarginToTheNoiseOfTwoWindows() throws Exception {
        start(Map.of(RegistryConfig.GATE_MARGIN, "0.02"));
        // when: a lucky window (0.806 over 500), then a head as good as before (0.77 over 500), then a worse one
        candidates.pipeInput("a", candidate("a", 2000, 0.806, 500, artifact(4, 0.1f), 4));
        candidates.pipeInput("a", candidate("a", 2500, 0.770, 500, artifact(4, 0.2f), 4));
        candidates.pipeInput("a", candidate("a", 3000, 0.700, 500, artifact(4, 0.3f), 4));
        // then: 2 standard errors of the difference are 0.052 at 0.77 over 500 predictions each
        assertThat(updates.readValuesToList()).extracting(u -> u.metrics().examplesLearned()).containsExactly(2000L, 2500L);
        List<ModelDecision> decisions = history.readValuesToList();
        assertThat(decisions.get(2).reason()).startsWith("gate:").endsWith("by more than 0.0556");
    }

    @Test
    void shouldMakeAChallengerBeatTheCurrentVersionOutright() throws Exception {
        start(Map.of(RegistryConfig.GATE_MARGIN, "0.05"));
        // when: lda v1, then an sgd challenger slightly worse, one better, then lda slightly worse again
        candidates.pipeInput("a", candidate("a", "lda", 100, 0.90, 100, artifact(4, 0.1f), 4));
        candidates.pipeInput("a", candidate("a", "sgd", 100, 0.89, 100, artifact(4, 0.2f), 4));
        candidates.pipeInput("a", candidate("a", "sgd", 200, 0.92, 100, artifact(4, 0.3f), 4));
        candidates.pipeInput("a", candidate("a", "lda", 200, 0.91, 100, artifact(4, 0.4f), 4));
        candidates.pipeInput("a", candidate("a", "sgd", 300, 0.90, 100, artifact(4, 0.5f), 4));
        // then: the margin forgives a head's own noise, not a switch to a worse head
        assertThat(updates.readValuesToList()).extracting(u -> u.version() + ":" + u.headType())
                .containsExactly("1:lda", "2:sgd", "3:sgd");
        assertThat(history.readValuesToList()).extracting(ModelDecision::reasonCode)
                .containsExactly("", "gate", "", "gate", "");
    }

    @Test
    void shouldApplyTheFirstMatchingPolicyPerTaskPattern() throws Exception {
        start(Map.of(RegistryConfig.GATE_FLOOR, "0.5", "registry.policy.fraud-*.floor", "0.95"));
        // when
        candidates.pipeInput("fraud-eu", candidate("fraud-eu", 100, 0.9, 100, artifact(4, 0.1f), 4));
        candidates.pipeInput("spam", candidate("spam", 100, 0.9, 100, artifact(4, 0.1f), 4));
        // then
        assertThat(updates.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("spam");
        assertThat(rejected("floor")).isEqualTo(1);
    }

    @Test
    void shouldRefuseBadPolicyKeysNamingThem() {
        assertThatThrownBy(() -> new RegistryConfig(Map.of("registry.policy.fraud-*.flor", "0.9")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("registry.policy.fraud-*.flor");
        assertThatThrownBy(() -> new RegistryConfig(Map.of("registry.policy.fraud-*.floor", "high")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("registry.policy.fraud-*.floor")
                .hasMessageContaining("high");
    }

    @Test
    void shouldRollBackPinPauseAndResume() throws Exception {
        start(Map.of());
        candidates.pipeInput("a", candidate("a", 10, artifact(4, 0.1f), 4));
        candidates.pipeInput("a", candidate("a", 20, artifact(4, 0.2f), 4));
        // when: roll back to v1, then a candidate, then pin v2, a candidate, unpin, pause, a candidate, resume, a candidate
        command("a", RegistryCommand.Action.ROLLBACK, 1);
        candidates.pipeInput("a", candidate("a", 30, artifact(4, 0.3f), 4));
        command("a", RegistryCommand.Action.PIN, 2);
        candidates.pipeInput("a", candidate("a", 40, artifact(4, 0.4f), 4));
        command("a", RegistryCommand.Action.UNPIN, 0);
        command("a", RegistryCommand.Action.PAUSE, 0);
        candidates.pipeInput("a", candidate("a", 50, artifact(4, 0.5f), 4));
        command("a", RegistryCommand.Action.RESUME, 0);
        command("a", RegistryCommand.Action.ROLLBACK, 99);
        candidates.pipeInput("a", candidate("a", 60, artifact(4, 0.6f), 4));
        // then
        List<ModelUpdate> out = updates.readValuesToList();
        assertThat(out).extracting(u -> u.version() + ":" + u.origin() + ":" + u.sourceVersion() + ":" + u.metrics().examplesLearned())
                .containsExactly("1:promoted:0:10", "2:promoted:0:20", "3:rollback:1:10", "4:promoted:0:30",
                        "5:pin:2:20", "6:promoted:0:60");
        assertThat(out.get(2).artifact().sha256()).isEqualTo(out.get(0).artifact().sha256());
        assertThat(out.get(2).parentVersion()).isEqualTo(2);
        assertThat(history.readValuesToList()).extracting(d -> d.decision() + ":" + d.reasonCode() + ":" + d.version())
                .containsExactly("promoted::1", "promoted::2", "rollback:command c-ROLLBACK:3", "promoted::4",
                        "pin:command c-PIN:5", "rejected:pinned:0", "unpin:command c-UNPIN:0",
                        "pause:command c-PAUSE:0", "rejected:paused:0", "resume:command c-RESUME:0",
                        "refused:rollback:0", "promoted::6");
        assertThat(meters.get("headwater.registry.rollbacks").counter().count()).isEqualTo(1);
    }

    @Test
    void shouldSignEveryUpdateWhenGivenAKey() throws Exception {
        KeyPair keys = UpdateSignature.generate();
        start(Map.of(RegistryConfig.SIGNING_KEY, UpdateSignature.encode(keys.getPrivate()),
                RegistryConfig.SIGNING_KEY_ID, "k1"));
        // when
        candidates.pipeInput("a", candidate("a", 10, artifact(4, 0.1f), 4));
        command("a", RegistryCommand.Action.PIN, 1);
        command("a", RegistryCommand.Action.ROLLBACK, 1);
        // then
        List<ModelUpdate> out = updates.readValuesToList();
        assertThat(out).hasSize(2).allSatisfy(u -> {
            assertThat(u.signature().keyId()).isEqualTo("k1");
            assertThat(UpdateSignature.verifies(u, keys.getPublic())).isTrue();
        });
        ModelUpdate forged = out.get(1).republish(7, 6, ModelUpdate.ROLLBACK, "now").withSignature(out.get(1).signature());
        assertThat(UpdateSignature.verifies(forged, keys.getPublic())).isFalse();
        assertThat(UpdateSignature.verifies(out.get(0), UpdateSignature.generate().getPublic())).isFalse();
    }
}
