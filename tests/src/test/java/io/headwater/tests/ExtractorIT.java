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

    static List<ConsumerRecord<byte[], byte[]>> deadLetters(Map<String, String> props, Topics topics) {
        return TopicReader.readAll(client(props), topics.examplesDlq().name(), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    @Test
    void shouldDeadLetterATextTheBackboneFailsOnAndEmbedTheRestOneByOne() throws Exception {
        // given: a backbone whose batch call fails, and then fails on the first text alone (not on the probe)
        Map<String, String> props = props("failing-text.", "failing-text", Files.createTempDirectory("cache"));
        props.put(ExtractorConfig.BATCH_MAX_RECORDS, "3");
        props.put(ExtractorConfig.BATCH_MAX_WAIT_MS, "2000");
        ExtractorConfig config = new ExtractorConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Extractor.ensureTopics(config);
        io.headwater.kafka.Faults.inject("extractor.backbone", "throw:1,3");
        try {
            // when
            produce(props, topics, "a", spam(3));
            List<FeatureRecord> features = extractUntil(props, 2);
            // then: two features and one dead letter with reason backbone
            assertThat(features).hasSize(2);
            var dead = deadLetters(props, topics);
            assertThat(dead).hasSize(1);
            assertThat(DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR)).isEqualTo("backbone");
            assertThat(meters.get("headwater.extractor.dlq").tag("reason", "backbone").counter().count()).isEqualTo(1);
        } finally {
            io.headwater.kafka.Faults.clear();
        }
    }

    @Test
    void shouldStopTheLoopWhenTheBackboneFailsOnEveryText() throws Exception {
        // given: a backbone that fails on the batch and on the probe text: broken, not one bad example
        Map<String, String> props = props("broken-backbone.", "broken-backbone", Files.createTempDirectory("cache"));
        ExtractorConfig config = new ExtractorConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Extractor.ensureTopics(config);
        produce(props, topics, "a", spam(3));
        io.headwater.kafka.Faults.inject("extractor.backbone", "throw:1,2");
        SimpleMeterRegistry own = new SimpleMeterRegistry();
        try (Extractor extractor = new Extractor(config, backbone, own)) {
            // when
            new Thread(extractor).start();
            // then: the loop dies, says so, and writes nothing (the examples stay to be read again)
            Throwable cause = extractor.health().failure().get(2, TimeUnit.MINUTES);
            assertThat(cause).hasMessageContaining("fails on every text");
            assertThat(extractor.health().status().live()).isFalse();
            assertThat(features(props, topics, "read_committed")).isEmpty();
            assertThat(deadLetters(props, topics)).isEmpty();
        } finally {
            io.headwater.kafka.Faults.clear();
        }
    }

    @Test
    void shouldDeadLetterExamplesWhoseOutputTheBrokerRefusesInsteadOfRetryingForever() throws Exception {
        // given: a features topic that takes records of at most 1,000 bytes (a 384-d feature is ~1.6 kB)
        Map<String, String> props = props("refused.", "refused", Files.createTempDirectory("cache"));
        ExtractorConfig config = new ExtractorConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(client(props))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topics.features().name(), 1,
                    (short) 1).configs(Map.of("max.message.bytes", "1000")))).all().get();
        }
        Extractor.ensureTopics(config);
        List<Datasets.Line> lines = spam(4);
        produce(props, topics, "a", lines);
        SimpleMeterRegistry own = new SimpleMeterRegistry();
        try (Extractor extractor = new Extractor(config, backbone, own)) {
            // when
            new Thread(extractor).start();
            var dead = TopicReader.read(client(props), topics.examplesDlq().name(), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer(), "read_committed", 4, Duration.ofMinutes(2));
            // then: each example is a dead letter with reason produce, after one abort, and the loop lives
            assertThat(dead).hasSize(4);
            assertThat(dead).allSatisfy(r -> {
                assertThat(DeadLetters.header(r.headers(), DeadLetters.ERROR)).isEqualTo("produce");
                assertThat(DeadLetters.header(r.headers(), DeadLetters.REASON)).contains("RecordTooLargeException");
            });
            assertThat(own.get("headwater.extractor.transactions.aborted").counter().count()).isBetween(1.0, 4.0);
            assertThat(extractor.health().status().live()).isTrue();
            assertThat(features(props, topics, "read_committed")).isEmpty();
        }
    }
}
