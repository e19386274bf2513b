package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.cli.Datasets;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.cli.Pipeline;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelMetrics;
import io.headwater.kafka.Topic;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Poison, at every stage, on a real broker with the real backbone: a corpus of malformed examples
 * (see {@link MalformedExamples}) and random bytes interleaved with valid examples of two tasks,
 * then malformed records written straight onto {@code features}, {@code model-candidates} and
 * {@code registry-commands}. Every bad record lands in its stage's dead-letter topic with its
 * specific reason and source position; no stage restarts, aborts or stalls; every valid example is
 * learned exactly once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
class FaultCorpusIT {
    static final Map<String, Integer> VALID = Map.of("spam", 200, "fine-foods", 200);
    static final int RANDOM_RECORDS = 200;

    EmbeddedKafkaBroker broker;
    Pipeline pipeline;
    ModelUpdateWatcher watcher;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Topics topics = Topics.withPrefix("poison.");
    Map<String, Object> clientProps;
    KafkaProducer<byte[], byte[]> producer;
    /** Where each bad example went on the examples topic ("partition@offset"), with what it must get. */
    final Map<String, MalformedExamples.Case> badExamples = new LinkedHashMap<>();
    final Map<String, String> randomExamples = new LinkedHashMap<>();
    final Map<String, List<String>> validIds = new HashMap<>();
    /** Bad records written straight onto internal topics: "topic/partition@offset" to the reason they must get. */
    final Map<String, String> badInternal = new LinkedHashMap<>();

    @BeforeAll
    void runThePoisonThrough() throws Exception {
        broker = EmbeddedKafkaBroker.start();
        Map<String, String> props = new HashMap<>();
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(TrainerConfig.HEAD_TYPE, "lda,sgd");
        props.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "100");
        props.put(TrainerConfig.CANDIDATE_EVERY_MS, "1000");
        props.put(TrainerConfig.STATE_DIR, Files.createTempDirectory("poison-trainer").toString());
        props.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("poison-registry").toString());
        props.put(RegistryConfig.API_PORT, "-1");
        props.put(ExtractorConfig.CACHE_DIR, Files.createTempDirectory("poison-cache").toString());
        clientProps = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
        pipeline = Pipeline.start(props, meters);
        watcher = new ModelUpdateWatcher(clientProps, topics, u -> { });
        Map<String, Object> producerProps = new HashMap<>(clientProps);
        producerProps.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 6 * 1024 * 1024);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
        // given: valid examples of two tasks with every malformed kind and random bytes between them
        List<Object> stream = new ArrayList<>();
        Map<String, byte[]> first = new HashMap<>();
        for (var e : VALID.entrySet()) {
            for (Datasets.Line line : Datasets.shuffled(Datasets.bundled(e.getKey()), 5).subList(0, e.getValue())) {
                var node = ((com.fasterxml.jackson.databind.node.ObjectNode) line.json().orElseThrow().deepCopy())
                        .put("task", e.getKey());
                byte[] value = node.toString().getBytes(StandardCharsets.UTF_8);
                stream.add(new Object[] {e.getKey(), node.get("id").asText(), value});
                first.putIfAbsent(e.getKey(), value);
            }
        }
        stream = new ArrayList<>(Datasets.shuffled(stream, 6));
        List<MalformedExamples.Case> corpus = MalformedExamples.of("spam", pipeline.backbone().dimension());
        Random random = new Random(17);
        for (MalformedExamples.Case c : corpus) {
            stream.add(1 + random.nextInt(stream.size() - 1), c);
        }
        // Random bytes with a fixed seed: any length up to 400, any content (the property test
        // ExampleParserPropertiesTest tries many more against the parser alone).
        for (int i = 0; i < RANDOM_RECORDS; i++) {
            byte[] b = new byte[random.nextInt(401)];
            random.nextBytes(b);
            stream.add(1 + random.nextInt(stream.size() - 1), b);
        }
        // A repeat of an example id already sent (the same example sent twice), and an example with
        // an empty key, which counts as no key.
        stream.add(new Object[] {"spam", "repeat", first.get("spam")});
        stream.add(new Object[] {"", "empty-key", Json.MAPPER.readTree(first.get("fine-foods")).deepCopy()});
        for (Object item : stream) {
            send(item);
        }
        producer.flush();
        // when: the valid ones are learned
        waitFor(() -> allLearned(), Duration.ofMinutes(4), "every valid example learned");
        // and then malformed records go straight onto the trainer's and the registry's inputs
        writeBadInternalRecords();
        producer.flush();
        waitFor(() -> read(topics.featuresDlq()).size() >= 11 && read(topics.registryDlq()).size() >= 11,
                Duration.ofMinutes(1), "internal dead letters");
    }

    private void send(Object item) throws Exception {
        String where;
        if (item instanceof MalformedExamples.Case c) {
            where = position(producer.send(new ProducerRecord<>(topics.examples().name(), c.key().orElse(null),
                    c.value())).get());
            badExamples.put(where, c);
        } else if (item instanceof byte[] b) {
            where = position(producer.send(new ProducerRecord<>(topics.examples().name(), utf8("spam"), b)).get());
            randomExamples.put(where, Base64.getEncoder().encodeToString(b));
        } else {
            Object[] valid = (Object[]) item;
            String task = (String) valid[0];
            if (valid[2] instanceof com.fasterxml.jackson.databind.JsonNode n) {
                // The empty-key example: a valid example of fine-foods with a fresh id.
                byte[] value = ((com.fasterxml.jackson.databind.node.ObjectNode) n).put("id", "empty-key")
                        .toString().getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topics.examples().name(), new byte[0], value)).get();
                validIds.computeIfAbsent("fine-foods", t -> new ArrayList<>()).add("empty-key");
                return;
            }
            producer.send(new ProducerRecord<>(topics.examples().name(), utf8(task), (byte[]) valid[2]));
            if (!"repeat".equals(valid[1])) {
                validIds.computeIfAbsent(task, t -> new ArrayList<>()).add((String) valid[1]);
            }
        }
    }

    private void writeBadInternalRecords() throws ExecutionException, InterruptedException {
        String sha = pipeline.backbone().sha256();
        int d = pipeline.backbone().dimension();
        FeatureRecord good = new FeatureRecord("internal-1", "ham", pipeline.backbone().id(), sha, -1, "x", 0, 0,
                new float[d]);
        byte[] nan = good.encode();
        java.nio.ByteBuffer.wrap(nan).putFloat(nan.length - 4, Float.NaN);
        byte[] inf = good.encode();
        java.nio.ByteBuffer.wrap(inf).putFloat(inf.length - 8, Float.NEGATIVE_INFINITY);
        String repeatedId = validIds.get("spam").get(0);
        Map<String, Object[]> features = new LinkedHashMap<>();
        features.put("key", new Object[] {null, good.encode()});
        features.put("empty", new Object[] {utf8("spam"), null});
        features.put("decode", new Object[] {utf8("spam"), utf8("{\"not\": \"a feature record\"}")});
        features.put("decode ", new Object[] {utf8("spam"), Arrays.copyOf(good.encode(), 50)});
        features.put("non_finite", new Object[] {utf8("spam"), nan});
        features.put("non_finite ", new Object[] {utf8("spam"), inf});
        features.put("dimension", new Object[] {utf8("spam"), new FeatureRecord("internal-2", "ham",
                pipeline.backbone().id(), sha, -1, "x", 0, 1, new float[d + 1]).encode()});
        features.put("backbone", new Object[] {utf8("spam"), new FeatureRecord("internal-3", "ham", "other",
                "0".repeat(64), -1, "x", 0, 2, new float[d]).encode()});
        features.put("duplicate", new Object[] {utf8("spam"), new FeatureRecord(repeatedId, "ham",
                pipeline.backbone().id(), sha, -1, "x", 0, 3, new float[d]).encode()});
        features.put("decode  ", new Object[] {utf8("spam"), new byte[900_000]});
        features.forEach((reason, kv) -> badInternal.put(internal(topics.features(), kv), reason.trim()));
        byte[] artifact = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}).getBytes(StandardCharsets.UTF_8);
        Map<String, Object[]> candidates = new LinkedHashMap<>();
        candidates.put("key", new Object[] {null, utf8("{}")});
        candidates.put("invalid", new Object[] {utf8("spam"), utf8("not json")});
        candidates.put("invalid ", new Object[] {utf8("spam"), null});
        candidates.put("invalid  ", new Object[] {utf8("spam"), candidate("spam", 99, "AAAA", d)});
        candidates.put("invalid   ", new Object[] {utf8("spam"), candidate("fine-foods", 1, "AAAA", d)});
        candidates.put("invalid    ", new Object[] {utf8("spam"), candidate("spam", 1, "!!not base64!!", d)});
        candidates.put("invalid     ", new Object[] {utf8("spam"), candidate("spam", 1, new String(artifact,
                StandardCharsets.UTF_8), d)});
        candidates.forEach((reason, kv) -> badInternal.put(internal(topics.modelCandidates(), kv), reason.trim()));
        Map<String, Object[]> commands = new LinkedHashMap<>();
        commands.put("command", new Object[] {utf8("spam"), utf8("{\"action\": ")});
        commands.put("command ", new Object[] {utf8("spam"), null});
        commands.put("command  ", new Object[] {utf8("spam"), utf8("{\"formatVersion\": 1, \"id\": \"c1\", \"task\": "
                + "\"spam\", \"action\": \"explode\", \"version\": 1}")});
        commands.put("command   ", new Object[] {utf8("spam"), utf8("{\"formatVersion\": 1, \"id\": \"c2\", \"task\": "
                + "\"fine-foods\", \"action\": \"pause\", \"version\": 0}")});
        commands.forEach((reason, kv) -> badInternal.put(internal(topics.registryCommands(), kv), reason.trim()));
    }

    static byte[] candidate(String task, int formatVersion, String artifact, int dimension) {
        return Json.write(new ModelCandidate(formatVersion, task, "lda", List.of("ham", "spam"),
                new BackboneRef("bb", "c".repeat(64), dimension), artifact, ModelMetrics.of(10, 0.9, 500, 100),
                Map.of("0", 1L), "trainer", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z", "d"));
    }

    private String internal(Topic<?, ?> topic, Object[] kv) {
        try {
            RecordMetadata m = producer.send(new ProducerRecord<>(topic.name(), (byte[]) kv[0], (byte[]) kv[1])).get();
            return topic.name() + "/" + position(m);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String position(RecordMetadata m) {
        return m.partition() + "@" + m.offset();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private boolean allLearned() {
        return validIds.entrySet().stream().allMatch(e -> List.of("lda", "sgd").stream()
                .allMatch(head -> watcher.decidedOn(e.getKey(), head, e.getValue().size())));
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(250);
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> read(Topic<byte[], byte[]> topic) {
        return TopicReader.readAll(clientProps, topic.name(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        return DeadLetters.header(r.headers(), name);
    }

    static String source(ConsumerRecord<?, ?> r) {
        return header(r, DeadLetters.SOURCE_PARTITION) + "@" + header(r, DeadLetters.SOURCE_OFFSET);
    }

    @AfterAll
    void tearDown() {
        if (producer != null) {
            producer.close();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void shouldDeadLetterEveryMalformedExampleWithItsSpecificReason() {
        assertThat(badExamples).as("the corpus").hasSizeGreaterThanOrEqualTo(50);
        Map<String, ConsumerRecord<byte[], byte[]>> dead = read(topics.examplesDlq()).stream()
                .collect(Collectors.toMap(FaultCorpusIT::source, r -> r));
        for (var e : badExamples.entrySet()) {
            MalformedExamples.Case c = e.getValue();
            ConsumerRecord<byte[], byte[]> r = dead.get(e.getKey());
            assertThat(r).as("dead letter of '" + c.name() + "'").isNotNull();
            assertThat(header(r, DeadLetters.ERROR)).as("reason of '" + c.name() + "'").isEqualTo(c.reason());
            assertThat(header(r, DeadLetters.REASON)).as("reason text of '" + c.name() + "'").contains(c.says());
            assertThat(header(r, DeadLetters.SOURCE_TOPIC)).isEqualTo(topics.examples().name());
            if (c.value() != null && c.value().length < 900_000) {
                assertThat(r.value()).as("original bytes of '" + c.name() + "'").isEqualTo(c.value());
            }
        }
        for (var e : randomExamples.entrySet()) {
            ConsumerRecord<byte[], byte[]> r = dead.get(e.getKey());
            assertThat(r).as("dead letter of random bytes " + e.getValue()).isNotNull();
            assertThat(header(r, DeadLetters.ERROR)).isIn("json", "schema");
            assertThat(r.value()).isEqualTo(Base64.getDecoder().decode(e.getValue()));
        }
        assertThat(dead).as("nothing else dead-lettered").hasSize(badExamples.size() + randomExamples.size());
    }

    @Test
    void shouldCutDeadLettersTooLargeForTheirTopicAndSayWhatWasCut() throws Exception {
        int limit;
        try (Admin admin = Admin.create(clientProps)) {
            limit = Topics.maxMessageBytes(admin, topics.examplesDlq());
        }
        Map<String, ConsumerRecord<byte[], byte[]>> dead = read(topics.examplesDlq()).stream()
                .collect(Collectors.toMap(FaultCorpusIT::source, r -> r));
        int cut = 0;
        for (var e : badExamples.entrySet()) {
            ConsumerRecord<byte[], byte[]> r = dead.get(e.getKey());
            int size = r.serializedKeySize() + r.serializedValueSize();
            for (var h : r.headers()) {
                size += h.key().length() + h.value().length;
            }
            assertThat(size).as("dead letter of '" + e.getValue().name() + "'").isLessThan(limit);
            byte[] original = e.getValue().value();
            if (original != null && original.length > limit) {
                cut++;
                assertThat(header(r, DeadLetters.ORIGINAL_SIZE)).isEqualTo(Integer.toString(original.length));
                assertThat(header(r, DeadLetters.ORIGINAL_SHA256)).isEqualTo(io.headwater.core.HeadArtifact.sha256(original));
                assertThat(original).startsWith(r.value());
            } else {
                assertThat(header(r, DeadLetters.ORIGINAL_SIZE)).isEmpty();
            }
        }
        assertThat(cut).as("the 2 MB and 5 MB examples were cut").isEqualTo(2);
    }

    @Test
    void shouldDeadLetterMalformedRecordsOnTheInternalTopicsWithTheirReasons() {
        List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>(read(topics.featuresDlq()));
        dead.addAll(read(topics.registryDlq()));
        Map<String, String> got = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            got.put(header(r, DeadLetters.SOURCE_TOPIC) + "/" + source(r), header(r, DeadLetters.ERROR));
        }
        // The repeated example id sent on examples is a duplicate for the trainer too.
        long repeats = got.entrySet().stream().filter(e -> e.getKey().startsWith(topics.features().name())
                && e.getValue().equals("duplicate")).count();
        assertThat(repeats).as("the repeated example and the repeated internal id").isEqualTo(2);
        for (var e : badInternal.entrySet()) {
            assertThat(got.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
        assertThat(got).hasSize(badInternal.size() + 1);
    }

    @Test
    void shouldLearnEveryValidExampleExactlyOnceWithNoStageRestartingOrRetrying() {
        Map<String, List<String>> features = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : TopicReader.readAll(clientProps, topics.features().name(),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            try {
                features.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(FeatureRecord.decode(r.value()).exampleId());
            } catch (io.headwater.core.BadRecordException | NullPointerException e) {
                // One of the malformed records this test wrote straight onto the topic.
            }
        }
        for (var e : validIds.entrySet()) {
            Set<String> expected = Set.copyOf(e.getValue());
            assertThat(expected).hasSize(e.getValue().size());
            List<String> written = features.get(e.getKey()).stream().filter(id -> !id.startsWith("internal")).toList();
            // The repeat of the first spam example is a feature (the extractor does not keep ids) that the
            // trainer does not learn.
            assertThat(Set.copyOf(written)).as("features of " + e.getKey()).isEqualTo(expected);
            for (String head : List.of("lda", "sgd")) {
                List<ModelDecision> decided = watcher.decisions(e.getKey()).stream()
                        .filter(d -> d.candidate() != null && head.equals(d.candidate().headType())).toList();
                assertThat(decided.get(decided.size() - 1).candidate().metrics().examplesLearned())
                        .as(e.getKey() + " " + head).isEqualTo(e.getValue().size());
            }
        }
        assertThat(meters.get("headwater.extractor.transactions.aborted").counter().count()).as("aborts").isZero();
        assertThat(meters.get("headwater.extractor.calls.retried").counter().count()).as("retries").isZero();
        assertThat(meters.find("headwater.streams.threads.replaced").counters()).hasSize(2)
                .allSatisfy(c -> assertThat(c.count()).as("threads replaced").isZero());
        assertThat(pipeline.healths()).allSatisfy(h -> assertThat(h.status().live()).as(h.stage()).isTrue());
        assertThat(pipeline.failure()).isNotDone();
    }
}
