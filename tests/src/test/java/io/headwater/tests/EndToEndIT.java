package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.cli.Datasets;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import io.headwater.client.ModelClient;
import io.headwater.client.Prediction;
import io.headwater.cli.ExampleProducer;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.cli.Pipeline;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The whole loop on a real in-process broker with the real backbone and real data: examples in,
 * dead letters and features, test-then-train, numbered versions out.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 12, unit = java.util.concurrent.TimeUnit.MINUTES)
class EndToEndIT {
    static final Map<String, Integer> EXAMPLES_PER_TASK = Map.of("spam", 1_000, "fine-foods", 1_500);
    static final Map<String, Double> ACCURACY_FLOOR = Map.of("spam", 0.90, "fine-foods", 0.72);
    static final long SEED = 42;
    /** Both head types train every task, as challengers; the registry's gate picks each version. */
    static final List<String> HEADS = List.of("lda", "sgd");

    EmbeddedKafkaBroker broker;
    Pipeline pipeline;
    ModelUpdateWatcher watcher;
    ModelClient client;
    Topics topics = Topics.withPrefix("it.");
    Map<String, Object> clientProps;
    final Map<String, Set<String>> validIds = new HashMap<>();
    final List<byte[]> badValues = new ArrayList<>();

    @BeforeAll
    void runTheLoop() throws Exception {
        broker = EmbeddedKafkaBroker.start();
        Map<String, String> props = new HashMap<>();
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "250");
        props.put(TrainerConfig.HEAD_TYPE, String.join(",", HEADS));
        props.put(TrainerConfig.CANDIDATE_EVERY_MS, "3000");
        props.put(TrainerConfig.STATE_DIR, Files.createTempDirectory("it-trainer").toString());
        props.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("it-registry").toString());
        props.put(RegistryConfig.API_PORT, "0");
        props.put(io.headwater.extractor.ExtractorConfig.CACHE_DIR, Files.createTempDirectory("it-cache").toString());
        clientProps = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
        pipeline = Pipeline.start(props, new SimpleMeterRegistry());
        watcher = new ModelUpdateWatcher(clientProps, topics, u -> { });
        client = ModelClient.builder(clientProps, topics).backbone(pipeline.backbone()).build().start();

        try (ExampleProducer producer = new ExampleProducer(clientProps, topics)) {
            List<String> badKinds = List.of(
                    "{\"id\": \"bad-json\", \"task\": \"spam\", \"text\": \"unterminated",
                    "{\"id\": \"bad-no-label\", \"task\": \"spam\", \"text\": \"hello\"}",
                    "{\"id\": \"bad-empty-text\", \"task\": \"fine-foods\", \"text\": \"\", \"label\": \"great\"}",
                    "{\"id\": \"bad-key\", \"task\": \"some-other-task\", \"text\": \"hi\", \"label\": \"ham\"}",
                    "[1, 2, 3]",
                    "{\"id\": \"bad-label-type\", \"task\": \"fine-foods\", \"text\": \"ok\", \"label\": 7}");
            int i = 0;
            for (var e : EXAMPLES_PER_TASK.entrySet()) {
                String task = e.getKey();
                List<Datasets.Line> lines = Datasets.shuffled(Datasets.bundled(task), SEED).subList(0, e.getValue());
                for (Datasets.Line line : lines) {
                    producer.send(task, line);
                    validIds.computeIfAbsent(task, t -> new HashSet<>()).add(line.json().orElseThrow().get("id").asText());
                    // Mix the malformed ones in between valid examples of both tasks.
                    if (i < badKinds.size() && line.number() % 97 == 0) {
                        byte[] bad = badKinds.get(i++).getBytes(StandardCharsets.UTF_8);
                        producer.sendRaw(i % 2 == 0 ? "spam" : "fine-foods", bad);
                        badValues.add(bad);
                    }
                }
            }
            while (i < badKinds.size()) {
                byte[] bad = badKinds.get(i++).getBytes(StandardCharsets.UTF_8);
                producer.sendRaw("spam", bad);
                badValues.add(bad);
            }
            producer.flush();
        }
        long deadline = System.nanoTime() + Duration.ofMinutes(9).toNanos();
        while (System.nanoTime() < deadline && !allLearned()) {
            assertThat(pipeline.healthy()).as("every service is up").isTrue();
            Thread.sleep(500);
        }
    }

    private boolean allLearned() {
        return validIds.entrySet().stream().allMatch(e -> HEADS.stream()
                .allMatch(head -> watcher.decidedOn(e.getKey(), head, e.getValue().size())));
    }

    @AfterAll
    void tearDown() {
        if (client != null) {
            client.close();
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
    void shouldCountEveryValidExampleExactlyOnceInEachHeadsLastCandidate() {
        for (var e : validIds.entrySet()) {
            for (String head : HEADS) {
                List<ModelDecision> decisions = watcher.decisions(e.getKey()).stream()
                        .filter(d -> head.equals(d.candidate().headType())).toList();
                ModelDecision last = decisions.get(decisions.size() - 1);
                assertThat(last.candidate().metrics().examplesLearned()).as(e.getKey() + " " + head)
                        .isEqualTo(e.getValue().size());
                // No candidate ever counts more than was produced, and counts only grow.
                assertThat(decisions).extracting(d -> d.candidate().metrics().examplesLearned()).isSorted()
                        .allSatisfy(n -> assertThat(n).isLessThanOrEqualTo((long) e.getValue().size()));
            }
            ModelUpdate newest = watcher.latest(e.getKey()).orElseThrow();
            assertThat(newest.metrics().examplesLearned()).isLessThanOrEqualTo(e.getValue().size());
        }
    }

    @Test
    void shouldNumberVersionsAndDecisionsFromOneWithoutGaps() {
        Map<String, List<ModelDecision>> history = new HashMap<>();
        for (ConsumerRecord<String, ModelDecision> r : readAll(topics.modelHistory().name(),
                topics.modelHistory().valueSerde().deserializer())) {
            history.computeIfAbsent(r.value().task(), t -> new ArrayList<>()).add(r.value());
            assertThat(r.key()).isEqualTo(Topics.historyKey(r.value().task(), r.value().sequence()));
        }
        for (String task : validIds.keySet()) {
            List<Long> versions = watcher.updates(task).stream().map(ModelUpdate::version).toList();
            assertThat(versions.size()).as("several versions of " + task).isGreaterThanOrEqualTo(3);
            assertThat(versions).as(task).containsExactlyElementsOf(
                    LongStream.rangeClosed(1, versions.size()).boxed().toList());
            List<ModelDecision> decisions = history.get(task);
            assertThat(decisions).extracting(ModelDecision::sequence).as("decisions of " + task)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, decisions.size()).boxed().toList());
            assertThat(decisions).filteredOn(d -> d.version() > 0).extracting(ModelDecision::version)
                    .as("published versions in the history of " + task).containsExactlyElementsOf(versions);
            // Every rejection says why, in one of the documented codes.
            assertThat(decisions).filteredOn(d -> ModelDecision.REJECTED.equals(d.decision()))
                    .allSatisfy(d -> assertThat(d.reasonCode()).isIn("gate", "floor", "min_examples"));
        }
    }

    @Test
    void shouldClearTheAccuracyFloors() {
        for (var e : ACCURACY_FLOOR.entrySet()) {
            ModelUpdate last = watcher.latest(e.getKey()).orElseThrow();
            assertThat(last.metrics().windowCount()).isEqualTo(last.metrics().window());
            assertThat(last.metrics().windowedAccuracy()).as("windowed accuracy of " + e.getKey())
                    .isGreaterThanOrEqualTo(e.getValue());
        }
    }

    @Test
    void shouldPublishVerifiableHeadsForTheBackboneInUse() {
        for (String task : validIds.keySet()) {
            ModelUpdate last = watcher.latest(task).orElseThrow();
            byte[] bytes = Base64.getDecoder().decode(last.artifact().data());
            assertThat(HeadArtifact.sha256(bytes)).isEqualTo(last.artifact().sha256());
            HeadArtifact head = HeadArtifact.decode(bytes);
            assertThat(head.labels()).containsExactlyInAnyOrderElementsOf(last.labels());
            assertThat(head.inputDimension()).isEqualTo(pipeline.backbone().dimension());
            assertThat(last.backbone().sha256()).isEqualTo(pipeline.backbone().sha256());
        }
    }

    @Test
    void shouldServeTheNewestVersionThroughTheClientLibrary() throws InterruptedException {
        for (String task : validIds.keySet()) {
            long newest = watcher.latest(task).orElseThrow().version();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (client.current(task).map(m -> m.version()).orElse(0L) < newest && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(client.current(task).orElseThrow().version()).isEqualTo(newest);
        }
        Prediction p = client.predict("spam", "URGENT: you have WON a free prize, click here to claim your cash now!!!")
                .orElseThrow();
        assertThat(p.label()).isEqualTo("spam");
        assertThat(p.version()).isEqualTo(watcher.latest("spam").orElseThrow().version());
    }

    @Test
    void shouldAnswerPredictRequestsOverHttpWithTheNewestVersion() throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(ServingConfig.PORT, "0");
        try (Serving serving = Serving.start(new ServingConfig(props), pipeline.backbone(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            long newest = watcher.latest("spam").orElseThrow().version();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (serving.client().current("spam").map(m -> m.version()).orElse(0L) < newest
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            HttpClient http = HttpClient.newHttpClient();
            URI predict = URI.create("http://127.0.0.1:" + serving.port() + "/predict");
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(predict).POST(BodyPublishers.ofString(
                    "{\"task\": \"spam\", \"texts\": [\"WIN a FREE prize now!!! click here to claim your cash\","
                            + " \"Hi Bob, the meeting moved to 3pm, see you in room 4\"]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            var json = io.headwater.kafka.Json.MAPPER.readTree(ok.body());
            assertThat(json.get("version").asLong()).isEqualTo(newest);
            assertThat(json.get("predictions").get(0).get("label").asText()).isEqualTo("spam");
            assertThat(json.get("predictions").get(1).get("label").asText()).isEqualTo("ham");
            assertThat(json.get("predictions").get(0).get("scores").get("spam").asDouble()).isGreaterThan(0.5);
            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(predict)
                    .POST(BodyPublishers.ofString("{\"task\": \"spam\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("exactly one of");
            HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(predict)
                    .POST(BodyPublishers.ofString("{\"task\": \"weather\", \"text\": \"rain\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(unknown.statusCode()).isEqualTo(404);
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + serving.port() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + serving.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body()).contains("headwater_serving_requests_total{status=\"200\"} 1.0",
                    "headwater_client_swaps_total");
        }
    }

    @Test
    void shouldDeadLetterEveryInvalidExampleWithAReasonAndLoseNothingElse() {
        List<ConsumerRecord<byte[], byte[]>> dlq = TopicReader.readAll(clientProps, topics.examplesDlq().name(),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        assertThat(dlq).hasSize(badValues.size());
        assertThat(dlq).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactlyInAnyOrderElementsOf(badValues.stream()
                        .map(b -> new String(b, StandardCharsets.UTF_8)).toList());
        for (ConsumerRecord<byte[], byte[]> r : dlq) {
            assertThat(DeadLetters.header(r.headers(), DeadLetters.REASON)).isNotBlank();
            assertThat(DeadLetters.header(r.headers(), DeadLetters.ERROR)).isIn("json", "schema", "key");
            assertThat(DeadLetters.header(r.headers(), DeadLetters.SOURCE_TOPIC)).isEqualTo(topics.examples().name());
        }
        Map<String, List<String>> featureIds = new HashMap<>();
        for (ConsumerRecord<String, FeatureRecord> r : readAll(topics.features().name(),
                topics.features().valueSerde().deserializer())) {
            featureIds.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value().exampleId());
            assertThat(r.value().embedding()).hasSize(pipeline.backbone().dimension());
        }
        for (var e : validIds.entrySet()) {
            assertThat(featureIds.get(e.getKey())).as("features of " + e.getKey())
                    .hasSize(e.getValue().size())
                    .containsExactlyInAnyOrderElementsOf(e.getValue());
        }
    }

    private <V> List<ConsumerRecord<String, V>> readAll(String topic, Deserializer<V> valueDeserializer) {
        return TopicReader.readAll(clientProps, topic, new StringDeserializer(), valueDeserializer);
    }
}
