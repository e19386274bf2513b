package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.headwater.cli.Datasets;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.Faults;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topics;
import io.headwater.trainer.Trainer;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The trainer encodes task state once per commit ({@code LiveStateStore}); between commits the
 * states exist only in memory. These tests break the trainer between two commits, with hundreds of
 * examples learned since the last one, on a real broker and real embeddings, and require the final
 * heads to be bit-identical to an uninterrupted run of the trainer topology over the same records
 * ({@link TrainerReference}, which commits after every record):
 * <ul>
 *   <li>a transaction aborted mid-batch (a client error kills the stream thread; its replacement
 *       restores the state of the last commit from the changelog and reads on from its offsets);</li>
 *   <li>a head that throws on one record mid-batch: the task goes on from its state before that
 *       record, rebuilt from the last commit's state and the examples since.</li>
 * </ul>
 */
class TrainerCommitIT {
    static final int N = 301;
    static EmbeddedKafkaBroker broker;
    static List<byte[]> features = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        broker = EmbeddedKafkaBroker.start();
        List<Datasets.Line> lines = Datasets.bundled("spam").subList(0, N);
        List<String> texts = lines.stream().map(l -> l.json().orElseThrow().get("text").asText()).toList();
        try (Backbone backbone = Backbone.load(BackboneSpec.defaults())) {
            float[][] vectors = backbone.embed(texts);
            for (int i = 0; i < N; i++) {
                features.add(new FeatureRecord("e" + i, lines.get(i).json().orElseThrow().get("label").asText(),
                        backbone.id(), backbone.sha256(), -1, "examples", 0, i, vectors[i]).encode());
            }
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @AfterEach
    void clearFaults() {
        Faults.clear();
    }

    Map<String, String> props(String name) throws Exception {
        Map<String, String> p = new HashMap<>();
        p.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        p.put(HeadwaterConfigs.TOPIC_PREFIX, name + ".");
        p.put(TrainerConfig.APPLICATION_ID, name + "-trainer");
        p.put(TrainerConfig.STATE_DIR, Files.createTempDirectory(name).toString());
        p.put(TrainerConfig.HEAD_TYPE, "lda,sgd");
        p.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "100");
        // Long enough that everything after the first commit is learned within one interval.
        p.put(TrainerConfig.COMMIT_INTERVAL_MS, "4000");
        return p;
    }

    Map<String, Object> client() {
        return Map.of("bootstrap.servers", broker.bootstrapServers());
    }

    void produce(Topics topics, int from, int to) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(client(), new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = from; i < to; i++) {
                p.send(new ProducerRecord<>(topics.features().name(), "spam".getBytes(StandardCharsets.UTF_8),
                        features.get(i))).get();
            }
        }
    }

    /** Feeds the first 60 records, waits for their commit, then the rest, and waits until all are committed. */
    SimpleMeterRegistry run(Map<String, String> props) throws Exception {
        Topics topics = Topics.withPrefix(props.get(HeadwaterConfigs.TOPIC_PREFIX));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (StreamsService trainer = Trainer.start(new TrainerConfig(props), meters);
             GroupProgress progress = new GroupProgress(broker.bootstrapServers())) {
            produce(topics, 0, 60);
            awaitCommitted(progress, props.get(TrainerConfig.APPLICATION_ID), 60);
            produce(topics, 60, N);
            awaitCommitted(progress, props.get(TrainerConfig.APPLICATION_ID), N);
        }
        return meters;
    }

    static void awaitCommitted(GroupProgress progress, String group, long n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (progress.committed(group) < n && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(progress.committed(group)).as(group + " committed").isEqualTo(n);
    }

    /** The last candidate of each head: its artifact's SHA-256 and how many examples it learned. */
    Map<String, String> lastCandidates(Topics topics) {
        Map<String, String> out = new HashMap<>();
        List<ConsumerRecord<String, ModelCandidate>> records = TopicReader.readAll(client(),
                topics.modelCandidates().name(), new StringDeserializer(), topics.modelCandidates().valueSerde()
                        .deserializer());
        for (ConsumerRecord<String, ModelCandidate> r : records) {
            out.put(r.value().headType(), HeadArtifact.sha256(Base64.getDecoder().decode(r.value().artifact())) + " after "
                    + r.value().metrics().examplesLearned());
        }
        return out;
    }

    Map<String, String> reference(Map<String, String> live) throws Exception {
        Map<String, String> props = new HashMap<>(live);
        props.put(TrainerConfig.STATE_DIR, Files.createTempDirectory("reference").toString());
        Topics topics = Topics.withPrefix(props.get(HeadwaterConfigs.TOPIC_PREFIX));
        List<ConsumerRecord<byte[], byte[]>> records = TopicReader.readAll(client(), topics.features().name(),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        assertThat(records).hasSize(N);
        Map<String, String> out = new HashMap<>();
        TrainerReference.finalArtifactSha256(props, records).get("spam").forEach((head, sha) -> out.put(head, sha));
        return out;
    }

    @Test
    void shouldRestoreTheLastCommitAndMatchAnUninterruptedRunWhenATransactionAbortsMidBatch() throws Exception {
        // given: the stream thread dies of a client error on its 200th record, 140 records after the last commit
        Map<String, String> props = props("aborted");
        props.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "301");
        Faults.inject("trainer.process", "kafka:200");
        // when
        SimpleMeterRegistry meters = run(props);
        Faults.clear();
        // then: the thread was replaced once, its transaction aborted, and the heads are the uninterrupted run's
        assertThat(meters.find("headwater.streams.threads.replaced").counter().count()).isEqualTo(1.0);
        Map<String, String> last = lastCandidates(Topics.withPrefix("aborted."));
        Map<String, String> reference = reference(props);
        assertThat(last).containsOnlyKeys("lda", "sgd");
        last.forEach((head, v) -> assertThat(v).as(head).isEqualTo(reference.get(head) + " after " + N));
    }

    @Test
    void shouldGoOnFromTheStateBeforeARecordAHeadFailsOnMidBatch() throws Exception {
        // given: the sgd head throws on record 150 (the lda head learned it already), 90 records after the last commit
        Map<String, String> props = props("head-fails");
        Faults.inject("trainer.learn", "throw:" + (150 * 2 + 2));
        // when
        SimpleMeterRegistry meters = run(props);
        Faults.clear();
        Topics topics = Topics.withPrefix("head-fails.");
        // then: that record is a dead letter, no thread was replaced, and the final heads are those of
        // the reference trainer failing on the same record (which commits after every record, so it
        // goes on from the store)
        List<ConsumerRecord<byte[], byte[]>> dead = TopicReader.readAll(client(), topics.featuresDlq().name(),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        assertThat(dead).hasSize(1);
        assertThat(DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR)).isEqualTo("head");
        assertThat(meters.find("headwater.streams.threads.replaced").counter().count()).isZero();
        Map<String, String> last = lastCandidates(topics);
        Faults.inject("trainer.learn", "throw:" + (150 * 2 + 2));
        Map<String, String> reference = reference(props);
        assertThat(last).containsOnlyKeys("lda", "sgd");
        last.forEach((head, v) -> assertThat(v).as(head).isEqualTo(reference.get(head) + " after " + (N - 1)));
    }
}
