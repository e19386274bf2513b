package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.extractor.Extractor;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.Example;
import io.headwater.kafka.ExampleParser;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** The extractor alone on a real broker: replay from the cache, given vectors, a crash mid-transaction. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ExtractorIT {
    EmbeddedKafkaBroker broker;
    Backbone backbone;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @BeforeAll
    void start() {
        broker = EmbeddedKafkaBroker.start();
        backbone = Backbone.load(BackboneSpec.defaults());
    }

    @AfterAll
    void stop() {
        backbone.close();
        broker.close();
    }

    Map<String, String> props(String prefix, String group, Path cacheDir) {
        Map<String, String> p = new HashMap<>();
        p.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        p.put(HeadwaterConfigs.TOPIC_PREFIX, prefix);
        p.put(ExtractorConfig.GROUP_ID, group);
        p.put(ExtractorConfig.CACHE_DIR, cacheDir.toString());
        p.put(ExtractorConfig.BATCH_MAX_RECORDS, "20");
        return p;
    }

    static Map<String, Object> client(Map<String, String> props) {
        return HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
    }

    /** Runs an extractor until the features topic holds {@code expected} committed records. */
    List<FeatureRecord> extractUntil(Map<String, String> props, int expected) {
        ExtractorConfig config = new ExtractorConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        try (Extractor extractor = new Extractor(config, backbone, meters)) {
            Thread t = new Thread(extractor);
            t.start();
            List<FeatureRecord> features = TopicReader.read(client(props), topics.features().name(),
                    new StringDeserializer(), topics.features().valueSerde().deserializer(), "read_committed", expected,
                    Duration.ofMinutes(2)).stream().map(ConsumerRecord::value).toList();
            assertThat(features.size()).as("features within 2 minutes").isGreaterThanOrEqualTo(expected);
            return features;
        }
    }

    static List<FeatureRecord> features(Map<String, String> props, Topics topics, String isolation) {
        return TopicReader.readAll(client(props), topics.features().name(), new StringDeserializer(),
                topics.features().valueSerde().deserializer(), isolation).stream().map(ConsumerRecord::value).toList();
    }

    static List<Datasets.Line> spam(int n) {
        return Datasets.shuffled(Datasets.bundled("spam"), 3).subList(0, n);
    }

    static void produce(Map<String, String> props, Topics topics, String task, List<Datasets.Line> lines) {
        try (ExampleProducer producer = new ExampleProducer(client(props), topics)) {
            lines.forEach(l -> producer.send(task, l));
            producer.flush();
        }
    }

    @Test
    void shouldReplayAlreadyEmbeddedContentFromTheCacheWithoutABackboneCall() throws Exception {
        // given: 40 examples extracted once
        Path cache = Files.createTempDirectory("cache");
        Map<String, String> props = props("replay.", "replay-1", cache);
        ExtractorConfig config = new ExtractorConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Extractor.ensureTopics(config);
        produce(props, topics, "a", spam(40));
        List<FeatureRecord> first = extractUntil(props, 40);
        long callsAfterFirstPass = backbone.calls();
        // when: a second consumer group replays the topic from the start, with the cache reopened
        props.put(ExtractorConfig.GROUP_ID, "replay-2");
        List<FeatureRecord> both = extractUntil(props, 80);
        // then: identical feature records, and the backbone was not run again
        assertThat(both).hasSize(80);
        assertThat(both.subList(40, 80)).containsExactlyInAnyOrderElementsOf(first);
        assertThat(backbone.calls()).isEqualTo(callsAfterFirstPass);
        assertThat(meters.get("headwater.extractor.cache.hits").counter().count()).isGreaterThanOrEqualTo(40);
    }

    @Test
    void shouldTakeGivenVectorsAndDeadLetterOnesOfTheWrongDimension() throws Exception {
        // given
        Map<String, String> props = props("vectors.", "vectors", Files.createTempDirectory("cache"));
        ExtractorConfig config = new ExtractorConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Extractor.ensureTopics(config);
        float[] v = new float[backbone.dimension()];
        Random rnd = new Random(1);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        long callsBefore = backbone.calls();
        try (ExampleProducer producer = new ExampleProducer(client(props), topics)) {
            producer.sendRaw("t", ExampleParser.toJson(new Example("ok", "t", new Example.Vector(v), "yes", -1)));
            producer.sendRaw("t", ExampleParser.toJson(new Example("short", "t", new Example.Vector(new float[10]), "no", -1)));
            producer.flush();
        }
        // when
        List<FeatureRecord> features = extractUntil(props, 1);
        // then
        assertThat(features).hasSize(1);
        assertThat(features.get(0).exampleId()).isEqualTo("ok");
        assertThat(features.get(0).embedding()).containsExactly(v);
        assertThat(backbone.calls()).isEqualTo(callsBefore);
        var dlq = TopicReader.readAll(client(props), topics.examplesDlq().name(), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        assertThat(dlq).hasSize(1);
        assertThat(DeadLetters.header(dlq.get(0).headers(), DeadLetters.ERROR)).isEqualTo("vector");
        assertThat(DeadLetters.header(dlq.get(0).headers(), DeadLetters.REASON))
                .isEqualTo("vector has 10 values but backbone all-minilm-l6-v2-q gives 384");
    }

    @Test
    void shouldDeliverEveryExampleExactlyOnceAfterACrashBetweenProducingAndCommitting() throws Exception {
        // given: 120 examples, and an extractor in a child JVM that halts inside its third transaction,
        // after that transaction's features reached the broker and before its commit
        Map<String, String> props = props("crash.", "crash", Files.createTempDirectory("cache"));
        props.put(ExtractorConfig.TRANSACTIONAL_ID, "crash-extractor-0");
        ExtractorConfig config = new ExtractorConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Extractor.ensureTopics(config);
        List<Datasets.Line> lines = spam(120);
        produce(props, topics, "a", lines);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xmx1g", "-Dai.djl.offline=true",
                "-Dheadwater.fault.extractor.commit=halt:3", "io.headwater.cli.Headwater", "extractor"));
        props.forEach((k, val) -> command.addAll(List.of("-D", k + "=" + val)));
        command.addAll(List.of("-D", "metrics.port=-1"));
        Path log = Files.createTempFile("crashed-extractor", ".log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // when
        assertThat(child.waitFor(3, TimeUnit.MINUTES)).as("child extractor halted; log in " + log).isTrue();
        assertThat(child.exitValue()).as("halt exit code; log in " + log).isEqualTo(99);
        int committedAtCrash = features(props, topics, "read_committed").size();
        int writtenAtCrash = features(props, topics, "read_uncommitted").size();
        List<FeatureRecord> after = extractUntil(props, 120);
        // then: the crash left records of an open transaction, and yet read_committed sees each example once
        assertThat(committedAtCrash).as("two transactions committed").isBetween(2, 119);
        assertThat(writtenAtCrash).as("the third one's records are in the log, uncommitted").isGreaterThan(committedAtCrash);
        assertThat(after).hasSize(120);
        assertThat(new HashSet<>(after.stream().map(FeatureRecord::exampleId).toList()))
                .hasSize(120)
                .containsExactlyInAnyOrderElementsOf(lines.stream().map(l -> l.json().orElseThrow().get("id").asText()).toList());
        assertThat(features(props, topics, "read_uncommitted")).hasSize(120 + writtenAtCrash - committedAtCrash);
    }
}
