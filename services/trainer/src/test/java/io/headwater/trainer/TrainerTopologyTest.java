package io.headwater.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.core.HeadArtifact;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TrainerTopologyTest {
    static final String SHA = "a".repeat(64);
    static final int D = 8;

    TopologyTestDriver driver;
    TestInputTopic<String, FeatureRecord> features;
    TestOutputTopic<String, ModelCandidate> candidates;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @BeforeEach
    void setUp() throws Exception {
        TrainerConfig config = new TrainerConfig(Map.of(
                TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "10",
                TrainerConfig.CANDIDATE_EVERY_MS, "5000",
                TrainerConfig.ACCURACY_WINDOW, "20",
                TrainerConfig.SOLVE_EVERY, "5",
                TrainerConfig.METRICS_MAX_TASKS, "1",
                TrainerConfig.STATE_DIR, Files.createTempDirectory("trainer-test").toString()));
        Properties props = new Properties();
        props.putAll(Trainer.streamsOverrides(config));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        driver = new TopologyTestDriver(TrainerTopology.build(config, meters), props);
        Topics topics = Topics.withPrefix("headwater.");
        features = driver.createInputTopic(topics.features().name(), Serdes.String().serializer(),
                topics.features().valueSerde().serializer());
        candidates = driver.createOutputTopic(topics.modelCandidates().name(), Serdes.String().deserializer(),
                topics.modelCandidates().valueSerde().deserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    static FeatureRecord feature(Random rnd, int i, String sha) {
        return feature(rnd, i, sha, D);
    }

    static FeatureRecord feature(Random rnd, int i, String sha, int dimension) {
        boolean pos = rnd.nextBoolean();
        float[] x = new float[dimension];
        for (int j = 0; j < dimension; j++) {
            x[j] = (float) (rnd.nextGaussian() * 0.3 + (pos && j < 2 ? 2 : 0));
        }
        return new FeatureRecord("ex-" + i, pos ? "yes" : "no", "test-backbone", sha, -1, "headwater.examples", 0, i, x);
    }

    @Test
    void shouldProposeCandidateEveryNExamplesPerTask() {
        // given
        Random rnd = new Random(1);
        // when: 25 examples of task a, 10 of task b
        for (int i = 0; i < 25; i++) {
            features.pipeInput("a", feature(rnd, i, SHA));
        }
        for (int i = 0; i < 10; i++) {
            features.pipeInput("b", feature(rnd, i, SHA));
        }
        // then
        List<ModelCandidate> out = candidates.readValuesToList();
        assertThat(out).extracting(ModelCandidate::task).containsExactly("a", "a", "b");
        assertThat(out).extracting(c -> c.metrics().examplesLearned()).containsExactly(10L, 20L, 10L);
        ModelCandidate last = out.get(1);
        HeadArtifact head = HeadArtifact.decode(Base64.getDecoder().decode(last.artifact()));
        assertThat(head.inputDimension()).isEqualTo(D);
        assertThat(head.labels()).containsExactlyInAnyOrderElementsOf(last.labels());
        assertThat(last.backbone().sha256()).isEqualTo(SHA);
        assertThat(last.featureOffsets()).containsKey("0");
        KeyValueStore<String, TaskState> store = driver.getKeyValueStore(TrainerTopology.STATE_STORE);
        assertThat(store.get("a/lda").head.examplesLearned()).isEqualTo(25);
        assertThat(store.get("a/lda").examplesSinceCandidate).isEqualTo(5);
    }

    @Test
    void shouldProposeLeftoverExamplesAfterTheTimeLimit() {
        // given
        Random rnd = new Random(2);
        for (int i = 0; i < 13; i++) {
            features.pipeInput("a", feature(rnd, i, SHA));
        }
        assertThat(candidates.readValuesToList()).hasSize(1);
        // when: well past the 5 s limit (the processor stamps candidates with the real clock, so
        // leave room for a slow machine between the driver's start and the 10th example)
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        // then
        List<ModelCandidate> out = candidates.readValuesToList();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).metrics().examplesLearned()).isEqualTo(13);
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        assertThat(candidates.isEmpty()).isTrue();
    }

    @Test
    void shouldLearnTheTaskAndScoreTestThenTrain() {
        // given: two well separated classes
        Random rnd = new Random(3);
        for (int i = 0; i < 60; i++) {
            features.pipeInput("a", feature(rnd, i, SHA));
        }
        // then: the last window of predictions, all made before learning, is nearly all right
        List<ModelCandidate> out = candidates.readValuesToList();
        ModelCandidate last = out.get(out.size() - 1);
        assertThat(last.metrics().windowCount()).isEqualTo(20);
        assertThat(last.metrics().windowedAccuracy()).isGreaterThanOrEqualTo(0.9);
        assertThat(meters.get("headwater.trainer.examples").counter().count()).isEqualTo(60);
        // and: the time in the head is counted, learning apart from the candidates' exports
        double learning = meters.get("headwater.trainer.head.seconds").tags("head", "lda", "phase", "test_then_train")
                .counter().count();
        double exporting = meters.get("headwater.trainer.head.seconds").tags("head", "lda", "phase", "export")
                .counter().count();
        assertThat(learning).isPositive();
        assertThat(exporting).as(out.size() + " candidates exported").isPositive();
    }

    @Test
    void shouldRoundTripTaskStateThroughItsSerde() {
        Random rnd = new Random(5);
        for (int i = 0; i < 12; i++) {
            features.pipeInput("a", feature(rnd, i, SHA));
        }
        KeyValueStore<String, TaskState> store = driver.getKeyValueStore(TrainerTopology.STATE_STORE);
        TaskState s = store.get("a/lda");
        TaskState copy = TaskState.decode(s.encode());
        assertThat(copy.head.export()).isEqualTo(s.head.export());
        assertThat(copy.window.accuracy()).isEqualTo(s.window.accuracy());
        assertThat(copy.featureOffsets).isEqualTo(s.featureOffsets);
        assertThat(copy.examplesSinceCandidate).isEqualTo(2);
    }

    @Test
    void shouldCountLogAndRecordDriftInTheNextCandidate() {
        // given: a learned task whose label meaning flips after 200 examples
        Random rnd = new Random(6);
        for (int i = 0; i < 400; i++) {
            FeatureRecord f = feature(rnd, i, SHA);
            if (i >= 200) {
                f = new FeatureRecord(f.exampleId(), f.label().equals("yes") ? "no" : "yes", f.backboneId(), f.backboneSha256(),
                        f.eventTimeMs(), f.sourceTopic(), f.sourcePartition(), f.sourceOffset(), f.embedding());
            }
            features.pipeInput("a", f);
        }
        // then
        // then: the flip is reported once; the head's recovery afterwards (the error rate falling) is not drift
        double detections = meters.get("headwater.trainer.drift.detections").tag("head", "lda").counter().count();
        assertThat(detections).isEqualTo(1);
        List<ModelCandidate> out = candidates.readValuesToList();
        ModelCandidate before = out.get(19);
        ModelCandidate last = out.get(out.size() - 1);
        assertThat(before.metrics().examplesLearned()).isEqualTo(200);
        assertThat(before.metrics().driftDetections()).isZero();
        assertThat(last.metrics().driftDetections()).isEqualTo((long) detections);
        assertThat(last.metrics().lastDriftAt()).isBetween(200L, 400L);
    }

    @Test
    void shouldTagAccuracyByTaskUpToTheCapAndAverageTheRest() {
        Random rnd = new Random(7);
        for (int i = 0; i < 10; i++) {
            features.pipeInput("a", feature(rnd, i, SHA));
        }
        for (int i = 0; i < 10; i++) {
            features.pipeInput("b", feature(rnd, i, SHA));
        }
        assertThat(meters.find("headwater.trainer.accuracy").tag("task", "a").tag("head", "lda").gauge()).isNotNull();
        assertThat(meters.find("headwater.trainer.accuracy").tag("task", "b").gauge()).isNull();
        double b = candidates.readValuesToList().get(1).metrics().windowedAccuracy();
        assertThat(meters.get("headwater.trainer.accuracy").tag("task", TrainerMetrics.OTHER).gauge().value()).isEqualTo(b);
    }

    @Test
    void shouldTrainSgdHeadsThroughTheSameTopology() throws Exception {
        // given: a trainer whose tasks get sgd heads with small micro-batches
        TrainerConfig config = new TrainerConfig(Map.of(
                TrainerConfig.HEAD_TYPE, "sgd",
                TrainerConfig.SGD_HIDDEN, "16",
                TrainerConfig.SGD_BATCH_SIZE, "4",
                TrainerConfig.SGD_LEARNING_RATE, "0.02",
                TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "50",
                TrainerConfig.ACCURACY_WINDOW, "50",
                TrainerConfig.STATE_DIR, Files.createTempDirectory("trainer-test").toString()));
        Properties props = new Properties();
        props.putAll(Trainer.streamsOverrides(config));
        try (TopologyTestDriver sgd = new TopologyTestDriver(TrainerTopology.build(config, meters), props)) {
            Topics topics = Topics.withPrefix("headwater.");
            TestInputTopic<String, FeatureRecord> in = sgd.createInputTopic(topics.features().name(),
                    Serdes.String().serializer(), topics.features().valueSerde().serializer());
            TestOutputTopic<String, ModelCandidate> out = sgd.createOutputTopic(topics.modelCandidates().name(),
                    Serdes.String().deserializer(), topics.modelCandidates().valueSerde().deserializer());
            Random rnd = new Random(6);
            // when
            for (int i = 0; i < 150; i++) {
                in.pipeInput("a", feature(rnd, i, SHA));
            }
            // then
            List<ModelCandidate> proposed = out.readValuesToList();
            assertThat(proposed).hasSize(3).allMatch(c -> c.headType().equals("sgd"));
            assertThat(proposed.get(2).metrics().windowedAccuracy()).isGreaterThanOrEqualTo(0.9);
            HeadArtifact head = HeadArtifact.decode(Base64.getDecoder().decode(proposed.get(2).artifact()));
            assertThat(head.layers()).hasSize(2);
            KeyValueStore<String, TaskState> store = sgd.getKeyValueStore(TrainerTopology.STATE_STORE);
            TaskState copy = TaskState.decode(store.get("a/sgd").encode());
            assertThat(copy.head.export()).isEqualTo(store.get("a/sgd").head.export());
        }
    }

    @Test
    void shouldProposeForTasksOutsideTheWorkingSetWhenTheirTimeComes() {
        // given: more young tasks than the working set holds, one example each
        Random rnd = new Random(8);
        int tasks = LearnProcessor.WORKING_SET + 20;
        for (int t = 0; t < tasks; t++) {
            features.pipeInput("task-" + t, feature(rnd, t, SHA));
        }
        assertThat(candidates.isEmpty()).isTrue();
        // when
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        // then: every task, evicted or not, proposed its one example once
        List<ModelCandidate> out = candidates.readValuesToList();
        assertThat(out).hasSize(tasks).allSatisfy(c -> assertThat(c.metrics().examplesLearned()).isEqualTo(1));
        assertThat(out).extracting(ModelCandidate::task).doesNotHaveDuplicates();
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        assertThat(candidates.isEmpty()).isTrue();
    }

    @Test
    void shouldEncodeEachChangedStateOncePerCommitIntoTheChangelog() throws Exception {
        // given: whole states only (no deltas)
        SimpleMeterRegistry m = new SimpleMeterRegistry();
        try (TopologyTestDriver d = driver(Map.of(TrainerConfig.STATE_DELTA_RATIO, "0"), m)) {
            TestInputTopic<String, FeatureRecord> in = input(d);
            Random rnd = new Random(3);
            // when: 30 examples of one task (the test driver commits after every record)
            for (int i = 0; i < 30; i++) {
                in.pipeInput("a", feature(rnd, i, SHA));
            }
            // then: one state written per record, as big as the state
            KeyValueStore<String, TaskState> store = d.getKeyValueStore(TrainerTopology.STATE_STORE);
            int size = store.get("a/lda").encode().length;
            assertThat(written(m, "whole")).isBetween(25.0 * size, 31.0 * size);
            assertThat(written(m, "delta")).isZero();
            assertThat(store.get("a/lda").head.examplesLearned()).isEqualTo(30);
        }
    }

    @Test
    void shouldWriteSmallChangesAsDeltasAndReadBackTheSameStates() throws Exception {
        // given: a trainer writing deltas (the default) and one writing whole states, lda and sgd
        // heads of 96 dimensions, a candidate every 10 examples
        Map<String, String> heads = Map.of(TrainerConfig.HEAD_TYPE, "lda,sgd");
        Map<String, String> whole = new java.util.HashMap<>(heads);
        whole.put(TrainerConfig.STATE_DELTA_RATIO, "0");
        SimpleMeterRegistry deltaMeters = new SimpleMeterRegistry();
        SimpleMeterRegistry wholeMeters = new SimpleMeterRegistry();
        try (TopologyTestDriver withDeltas = driver(heads, deltaMeters);
             TopologyTestDriver withoutDeltas = driver(whole, wholeMeters)) {
            List<TopologyTestDriver> both = List.of(withDeltas, withoutDeltas);
            List<TestInputTopic<String, FeatureRecord>> inputs = both.stream().map(TrainerTopologyTest::input).toList();
            Random rnd = new Random(5);
            List<FeatureRecord> records = new java.util.ArrayList<>();
            for (int i = 0; i < 120; i++) {
                records.add(feature(rnd, i, SHA, 96));
            }
            // when: the same records (the driver commits after each), a head failing on one of them
            // (its task goes back to the state before it: the last whole state with its deltas
            // replayed) and a candidate proposed by time
            for (int k = 0; k < both.size(); k++) {
                for (int i = 0; i < records.size(); i++) {
                    if (i == 77) {
                        io.headwater.kafka.Faults.inject("trainer.learn", "throw:2");
                    }
                    inputs.get(k).pipeInput("a", records.get(i));
                    if (i == 90) {
                        both.get(k).advanceWallClockTime(Duration.ofSeconds(10));
                    }
                }
                io.headwater.kafka.Faults.clear();
            }
            // then: every state read back (whole state, deltas replayed) is the same to the bit
            for (String key : List.of("a/lda", "a/sgd")) {
                KeyValueStore<String, TaskState> a = withDeltas.getKeyValueStore(TrainerTopology.STATE_STORE);
                KeyValueStore<String, TaskState> b = withoutDeltas.getKeyValueStore(TrainerTopology.STATE_STORE);
                assertThat(HeadArtifact.sha256(a.get(key).encode())).as(key).isEqualTo(HeadArtifact.sha256(b.get(key).encode()));
                assertThat(a.get(key).head.examplesLearned()).isEqualTo(119);
            }
            // and so is every candidate
            Topics topics = Topics.withPrefix("headwater.");
            List<List<String>> proposed = both.stream().map(d -> d.createOutputTopic(topics.modelCandidates().name(),
                    Serdes.String().deserializer(), topics.modelCandidates().valueSerde().deserializer())
                    .readValuesToList().stream().map(c -> c.headType() + " " + c.metrics().examplesLearned() + " "
                            + c.artifact()).toList()).toList();
            assertThat(proposed.get(0)).hasSizeGreaterThan(20).isEqualTo(proposed.get(1));
            // and the deltas wrote a fraction of the bytes
            assertThat(written(deltaMeters, "delta")).isPositive();
            assertThat(written(deltaMeters, "whole") + written(deltaMeters, "delta"))
                    .isLessThan(0.2 * written(wholeMeters, "whole"));
        }
    }

    @Test
    void shouldKeepATaskNamedLikeAnotherTasksDeltaApart() throws Exception {
        // given: task a, and a task whose state key starts like the key of a's first lda delta
        try (TopologyTestDriver d = driver(Map.of(), new SimpleMeterRegistry())) {
            TestInputTopic<String, FeatureRecord> in = input(d);
            Random rnd = new Random(9);
            // when: both learn, interleaved, one commit per record (so a's state is written as deltas)
            for (int i = 0; i < 40; i++) {
                in.pipeInput(i % 2 == 0 ? "a" : "a/lda.d000000", feature(rnd, i, SHA, 96));
            }
            // then: each reads back its own examples, and the store lists the two states only
            KeyValueStore<String, TaskState> store = d.getKeyValueStore(TrainerTopology.STATE_STORE);
            assertThat(store.get("a/lda").head.examplesLearned()).isEqualTo(20);
            assertThat(store.get("a/lda.d000000/lda").head.examplesLearned()).isEqualTo(20);
            List<String> keys = new java.util.ArrayList<>();
            try (var it = store.all()) {
                it.forEachRemaining(kv -> keys.add(kv.key));
            }
            assertThat(keys).containsExactly("a/lda", "a/lda.d000000/lda");
        }
    }

    TopologyTestDriver driver(Map<String, String> overrides, SimpleMeterRegistry registry) throws Exception {
        Map<String, String> p = new java.util.HashMap<>(Map.of(
                TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "10",
                TrainerConfig.CANDIDATE_EVERY_MS, "5000",
                TrainerConfig.SOLVE_EVERY, "5",
                TrainerConfig.STATE_DIR, Files.createTempDirectory("trainer-test").toString()));
        p.putAll(overrides);
        TrainerConfig config = new TrainerConfig(p);
        Properties props = new Properties();
        props.putAll(Trainer.streamsOverrides(config));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // One clock for every driver, so that the states they write can be compared to the bit.
        return new TopologyTestDriver(TrainerTopology.build(config, registry), props, START);
    }

    static final java.time.Instant START = java.time.Instant.parse("2026-01-01T00:00:00Z");

    static TestInputTopic<String, FeatureRecord> input(TopologyTestDriver d) {
        Topics topics = Topics.withPrefix("headwater.");
        return d.createInputTopic(topics.features().name(), Serdes.String().serializer(),
                topics.features().valueSerde().serializer(), START, Duration.ofMillis(10));
    }

    static double written(SimpleMeterRegistry m, String form) {
        return m.get("headwater.trainer.state.written").tag("form", form).counter().count();
    }
}
