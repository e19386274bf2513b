package io.headwater.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.core.DenseLayer;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelMetrics;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RegistryTopologyTest {
    static final String SHA = "c".repeat(64);

    TopologyTestDriver driver;
    TestInputTopic<String, byte[]> candidates;
    TestOutputTopic<String, ModelUpdate> updates;
    TestOutputTopic<String, ModelUpdate> history;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @BeforeEach
    void setUp() throws Exception {
        RegistryConfig config = new RegistryConfig(Map.of(RegistryConfig.STATE_DIR,
                Files.createTempDirectory("registry-test").toString()));
        Properties props = new Properties();
        props.putAll(Registry.streamsOverrides(config));
        driver = new TopologyTestDriver(RegistryTopology.build(config, meters), props);
        Topics topics = Topics.withPrefix("headwater.");
        candidates = driver.createInputTopic(topics.modelCandidates().name(), Serdes.String().serializer(),
                Serdes.ByteArray().serializer());
        updates = driver.createOutputTopic(topics.modelUpdates().name(), Serdes.String().deserializer(),
                topics.modelUpdates().valueSerde().deserializer());
        history = driver.createOutputTopic(topics.modelHistory().name(), Serdes.String().deserializer(),
                topics.modelHistory().valueSerde().deserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    static byte[] artifact(int inputs, float weight) {
        float[] w = new float[2 * inputs];
        java.util.Arrays.fill(w, weight);
        return new HeadArtifact(List.of("no", "yes"), List.of(new DenseLayer(inputs, 2, w, new float[] {0, 0},
                DenseLayer.Activation.SOFTMAX))).encode();
    }

    static byte[] candidate(String task, long examples, byte[] artifact, int dimension) {
        return Json.write(new ModelCandidate(1, task, "lda", List.of("no", "yes"), new BackboneRef("bb", SHA, dimension),
                Base64.getEncoder().encodeToString(artifact), new ModelMetrics(examples, 0.9, 500, 500),
                Map.of("0", examples - 1), "trainer", "2026-11-27T00:00:00Z"));
    }

    @Test
    void shouldNumberVersionsPerTaskWithoutGaps() {
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
        assertThat(history.readKeyValuesToList()).extracting(kv -> kv.key)
                .containsExactly("a@1", "b@1", "a@2", "a@3");
    }

    @Test
    void shouldRejectMalformedCandidatesAndKeepNumbering() {
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
        assertThat(meters.get("headwater.registry.rejected").counter().count()).isEqualTo(4);
    }
}
