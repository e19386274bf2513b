package io.headwater.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.Faults;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every record the trainer cannot learn from goes to features.dlq with its reason, and the records
 * around it are learned as if it had not been there.
 */
class TrainerDeadLetterTest {
    static final String SHA = TrainerTopologyTest.SHA;
    static final int D = TrainerTopologyTest.D;

    TopologyTestDriver driver;
    TestInputTopic<byte[], byte[]> features;
    TestOutputTopic<String, ModelCandidate> candidates;
    TestOutputTopic<byte[], byte[]> deadLetters;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Random rnd = new Random(11);

    @BeforeEach
    void setUp() throws Exception {
        TrainerConfig config = new TrainerConfig(Map.of(
                TrainerConfig.HEAD_TYPE, "lda,sgd",
                TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "10",
                TrainerConfig.SOLVE_EVERY, "5",
                TrainerConfig.STATE_DIR, Files.createTempDirectory("trainer-dlq-test").toString()));
        Properties props = new Properties();
        props.putAll(Trainer.streamsOverrides(config));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        driver = new TopologyTestDriver(TrainerTopology.build(config, meters), props);
        Topics topics = Topics.withPrefix("headwater.");
        features = driver.createInputTopic(topics.features().name(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer());
        candidates = driver.createOutputTopic(topics.modelCandidates().name(), Serdes.String().deserializer(),
                topics.modelCandidates().valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(topics.featuresDlq().name(), Serdes.ByteArray().deserializer(),
                Serdes.ByteArray().deserializer());
    }

    @AfterEach
    void tearDown() {
        Faults.clear();
        driver.close();
    }

    void pipe(String task, FeatureRecord f) {
        features.pipeInput(bytes(task), f.encode());
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    FeatureRecord valid(int i) {
        return TrainerTopologyTest.feature(rnd, i, SHA);
    }

    long learned(String task, String head) {
        KeyValueStore<String, TaskState> store = driver.getKeyValueStore(TrainerTopology.STATE_STORE);
        return store.get(task + "/" + head).head.examplesLearned();
    }

    double dlq(String reason) {
        return meters.get("headwater.trainer.dlq").tag("reason", reason).counter().count();
    }

    static String header(TestRecord<byte[], byte[]> r, String name) {
        return DeadLetters.header(r.headers(), name);
    }

    /** A valid record's bytes with the embedding's value {@code i} replaced. */
    static byte[] withValue(FeatureRecord f, int i, float v) {
        byte[] b = f.encode();
        ByteBuffer.wrap(b).putFloat(b.length - 4 * (f.embedding().length - i), v);
        return b;
    }

    @Test
    void shouldDeadLetterEachMalformedFeatureRecordWithItsReasonAndLearnTheRest() {
        // given: valid records of task a, with every kind of malformed record between them
        for (int i = 0; i < 3; i++) {
            pipe("a", valid(i));
        }
        FeatureRecord template = valid(99);
        features.pipeInput((byte[]) null, template.encode());
        features.pipeInput(new byte[0], template.encode());
        features.pipeInput(bytes("a"), (byte[]) null);
        features.pipeInput(bytes("a"), bytes("not a feature record"));
        features.pipeInput(bytes("a"), Arrays.copyOf(template.encode(), 40));
        features.pipeInput(bytes("a"), withValue(template, 2, Float.NaN));
        features.pipeInput(bytes("a"), withValue(template, 0, Float.POSITIVE_INFINITY));
        features.pipeInput(bytes("a"), withValue(template, 1, 3e38f));
        pipe("a", new FeatureRecord("wide", "yes", "test-backbone", SHA, -1, "headwater.examples", 0, 50, new float[D + 1]));
        pipe("a", TrainerTopologyTest.feature(rnd, 51, "b".repeat(64)));
        // when
        for (int i = 3; i < 6; i++) {
            pipe("a", valid(i));
        }
        // then: each bad one is a dead letter with a specific reason and its source position
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> header(r, DeadLetters.ERROR)).containsExactly("key", "key", "empty",
                "decode", "decode", "non_finite", "non_finite", "non_finite", "dimension", "backbone");
        assertThat(dead).extracting(r -> header(r, DeadLetters.SOURCE_TOPIC)).containsOnly("headwater.features");
        assertThat(dead).extracting(r -> header(r, DeadLetters.SOURCE_OFFSET))
                .containsExactly("3", "4", "5", "6", "7", "8", "9", "10", "11", "12");
        assertThat(header(dead.get(5), DeadLetters.REASON))
                .isEqualTo("embedding value 2 is NaN, not a finite number within +-1.0E9");
        assertThat(header(dead.get(7), DeadLetters.REASON)).startsWith("embedding value 1 is 3.0E38");
        assertThat(header(dead.get(8), DeadLetters.REASON))
                .isEqualTo("feature has " + (D + 1) + " dimensions but task 'a' learns from " + D);
        assertThat(dead.get(3).value()).isEqualTo(bytes("not a feature record"));
        // and every valid one is learned by both heads, once
        assertThat(learned("a", "lda")).isEqualTo(6);
        assertThat(learned("a", "sgd")).isEqualTo(6);
        assertThat(dlq("non_finite")).isEqualTo(3);
        assertThat(dlq("key")).isEqualTo(2);
    }

    @Test
    void shouldDeadLetterAnExampleIdTheTaskLearnedAlready() {
        // given
        FeatureRecord first = valid(1);
        pipe("a", first);
        pipe("b", first);
        // when: the same id again for a (another label, another offset) and a new id
        pipe("a", new FeatureRecord(first.exampleId(), "no", "test-backbone", SHA, -1, "headwater.examples", 0, 7,
                first.embedding()));
        pipe("a", valid(2));
        // then: the repeat is a dead letter; the same id in another task is a different example
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).hasSize(1);
        assertThat(header(dead.get(0), DeadLetters.ERROR)).isEqualTo("duplicate");
        assertThat(header(dead.get(0), DeadLetters.REASON)).contains("example 'ex-1' of task 'a' was learned already");
        assertThat(learned("a", "lda")).isEqualTo(2);
        assertThat(learned("b", "lda")).isEqualTo(1);
        assertThat(dlq("duplicate")).isEqualTo(1);
    }

    @Test
    void shouldGoOnFromTheStateBeforeARecordAHeadFailsOn() {
        // given: 4 records learned by both heads (lda, then sgd, for each record)
        for (int i = 0; i < 4; i++) {
            pipe("a", valid(i));
        }
        KeyValueStore<String, TaskState> store = driver.getKeyValueStore(TrainerTopology.STATE_STORE);
        byte[] ldaBefore = store.get("a/lda").encode();
        // when: the sgd head fails on the 5th record, after the lda head has learned it
        Faults.inject("trainer.learn", "throw:2");
        pipe("a", valid(4));
        // then: the record is a dead letter and neither head has it
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> header(r, DeadLetters.ERROR)).containsExactly("head");
        assertThat(header(dead.get(0), DeadLetters.REASON)).contains("injected failure at trainer.learn");
        assertThat(store.get("a/lda").encode()).isEqualTo(ldaBefore);
        assertThat(learned("a", "sgd")).isEqualTo(4);
        // and the task goes on from there: the next 6 records make the candidate of 10 examples
        for (int i = 5; i < 11; i++) {
            pipe("a", valid(i));
        }
        assertThat(candidates.readValuesToList()).extracting(c -> c.headType() + " " + c.metrics().examplesLearned())
                .containsExactlyInAnyOrder("lda 10", "sgd 10");
        assertThat(dlq("head")).isEqualTo(1);
    }
}
