package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.backbone.Backbone;
import io.headwater.backbone.Embedder;
import io.headwater.backbone.ImageBackbone;
import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.extractor.Backbones;
import io.headwater.extractor.Extractor;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topics;
import io.headwater.cli.Pipeline;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.headwater.trainer.Trainer;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Three real bundled backbones in one extractor on a real in-process broker: the default int8
 * MiniLM for task spam, a named text backbone bge (bge-small-en-v15-q) for task bge-spam, and a
 * named image backbone photos (fashion-cnn) for task photos. Both text tasks get the same e-mails,
 * with the embedding cache on, so a vector taken from the wrong backbone or the wrong cache
 * namespace shows. A text sent to the image task and an image sent to a named text task are
 * dead-lettered with their reasons. A trainer and a registry then learn all three tasks, and
 * serving answers each over HTTP with its own backbone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class MultiBackboneIT {
    static final int N = 30;

    EmbeddedKafkaBroker broker;
    Backbones backbones;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Topics topics = Topics.withPrefix("multi.");
    Map<String, Object> clientProps;
    /** Task -> example id -> the text or image it carries. */
    final Map<String, Map<String, String>> sent = new HashMap<>();
    final Map<String, List<FeatureRecord>> features = new HashMap<>();
    List<ConsumerRecord<byte[], byte[]>> dlq;
    Map<String, String> props = new HashMap<>();
    String digit;

    @BeforeAll
    void extract() throws Exception {
        broker = EmbeddedKafkaBroker.start();
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(ExtractorConfig.CACHE_DIR, Files.createTempDirectory("multi-cache").toString());
        props.put(ExtractorConfig.BATCH_MAX_RECORDS, "32");
        props.put(ExtractorConfig.BACKBONE_THREADS, "1");
        props.put(ExtractorConfig.BACKBONES, "bge,photos");
        props.put("backbone.bge.tasks", "bge-.*");
        props.put("backbone.bge.name", "bge-small-en-v15-q");
        props.put("backbone.bge.threads", "1");
        props.put("backbone.photos.tasks", "photos");
        props.put("backbone.photos.kind", "image");
        props.put("backbone.photos.threads", "1");
        ExtractorConfig config = new ExtractorConfig(props);
        clientProps = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
        Extractor.ensureTopics(config);
        backbones = Backbones.load(config);

        List<Datasets.Line> emails = Datasets.shuffled(Datasets.bundled("spam"), 5).subList(0, N);
        List<Datasets.Line> digits = Datasets.shuffled(Datasets.bundled("mnist-digits"), 5).subList(0, N);
        digit = digits.get(0).json().orElseThrow().get("image").asText();
        try (ExampleProducer producer = new ExampleProducer(clientProps, topics)) {
            for (int i = 0; i < N; i++) {
                send(producer, "spam", emails.get(i), "text");
                send(producer, "bge-spam", emails.get(i), "text");
                send(producer, "photos", digits.get(i), "image");
            }
            producer.sendRaw("photos", ("{\"id\": \"text-for-photos\", \"task\": \"photos\", \"text\": \"a shoe\", "
                    + "\"label\": \"7\"}").getBytes(StandardCharsets.UTF_8));
            producer.sendRaw("bge-spam", ("{\"id\": \"image-for-bge\", \"task\": \"bge-spam\", \"image\": \"" + digit
                    + "\", \"label\": \"spam\"}").getBytes(StandardCharsets.UTF_8));
            producer.flush();
        }
        try (Extractor extractor = new Extractor(config, backbones, meters)) {
            new Thread(extractor, "multi-extractor").start();
            List<ConsumerRecord<String, FeatureRecord>> records = TopicReader.read(clientProps,
                    topics.features().name(), new StringDeserializer(), topics.features().valueSerde().deserializer(),
                    "read_committed", 3 * N, Duration.ofMinutes(3));
            records.forEach(r -> features.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value()));
            dlq = TopicReader.read(clientProps, topics.examplesDlq().name(), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer(), "read_committed", 2, Duration.ofMinutes(1));
            assertThat(extractor.healthy()).as("extractor still live").isTrue();
        }
    }

    private void send(ExampleProducer producer, String task, Datasets.Line line, String field) {
        producer.send(task, line);
        JsonNode json = line.json().orElseThrow();
        sent.computeIfAbsent(task, t -> new HashMap<>()).put(json.get("id").asText(), json.get(field).asText());
    }

    @AfterAll
    void tearDown() {
        if (backbones != null) {
            backbones.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void shouldEmbedEachTaskWithItsOwnBackboneAndSayWhichInEveryFeatureRecord() {
        Backbone minilm = backbones.text();
        Embedder bge = backbones.named().get("bge");
        Embedder photos = backbones.named().get("photos");
        assertThat(minilm.id()).isEqualTo("all-minilm-l6-v2-q");
        assertThat(bge.id()).isEqualTo("bge-small-en-v15-q");
        assertThat(photos).isInstanceOf(ImageBackbone.class);
        assertThat(photos.id()).isEqualTo("fashion-cnn");
        assertThat(features.keySet()).containsExactlyInAnyOrder("spam", "bge-spam", "photos");
        Map<String, Embedder> expected = Map.of("spam", minilm, "bge-spam", bge, "photos", photos);
        for (var e : features.entrySet()) {
            Embedder b = expected.get(e.getKey());
            assertThat(e.getValue()).as(e.getKey()).hasSize(N);
            assertThat(e.getValue()).extracting(FeatureRecord::exampleId).as(e.getKey())
                    .containsExactlyInAnyOrderElementsOf(sent.get(e.getKey()).keySet());
            for (FeatureRecord f : e.getValue()) {
                assertThat(f.backboneId()).as(e.getKey()).isEqualTo(b.id());
                assertThat(f.backboneSha256()).as(e.getKey()).isEqualTo(b.sha256());
                assertThat(f.embedding()).as(e.getKey()).hasSize(b.dimension());
            }
        }
        assertThat(photos.dimension()).isEqualTo(128);
        assertThat(minilm.sha256()).isNotEqualTo(bge.sha256());
    }

    @Test
    void shouldGiveTheSameTextEachBackbonesOwnVectorThroughTheCache() {
        // given: the same e-mails went to spam (MiniLM) and bge-spam (bge), one cache for both
        Backbone bge = (Backbone) backbones.named().get("bge");
        for (String task : List.of("spam", "bge-spam")) {
            Backbone b = task.equals("spam") ? backbones.text() : bge;
            for (FeatureRecord f : features.get(task).subList(0, 5)) {
                String text = sent.get(task).get(f.exampleId());
                float[] direct = b.embed(List.of(text))[0];
                // then: each task's vector is its own backbone's, not the other's cached one
                for (int i = 0; i < direct.length; i++) {
                    assertThat(f.embedding()[i]).as(task + " " + f.exampleId() + "[" + i + "]")
                            .isCloseTo(direct[i], within(1e-5f));
                }
            }
        }
        FeatureRecord minilmFirst = features.get("spam").get(0);
        FeatureRecord bgeSame = features.get("bge-spam").stream()
                .filter(f -> f.exampleId().equals(minilmFirst.exampleId())).findFirst().orElseThrow();
        assertThat(bgeSame.embedding()).isNotEqualTo(minilmFirst.embedding());
    }

    @Test
    void shouldDeadLetterAnExampleOfTheWrongKindForItsNamedBackbone() {
        Map<String, String> reasons = new HashMap<>();
        Map<String, String> errors = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dlq) {
            String value = new String(r.value(), StandardCharsets.UTF_8);
            String id = value.contains("text-for-photos") ? "text-for-photos" : value.contains("image-for-bge")
                    ? "image-for-bge" : value;
            reasons.put(id, DeadLetters.header(r.headers(), DeadLetters.REASON));
            errors.put(id, DeadLetters.header(r.headers(), DeadLetters.ERROR));
        }
        assertThat(dlq).hasSize(2);
        assertThat(errors).containsExactlyInAnyOrderEntriesOf(Map.of("text-for-photos", "kind", "image-for-bge", "kind"));
        assertThat(reasons.get("text-for-photos")).isEqualTo("task 'photos' takes images (backbone.photos.tasks=photos):"
                + " send \"image\" or a \"vector\" of image backbone fashion-cnn's 128 values, not \"text\"");
        assertThat(reasons.get("image-for-bge")).isEqualTo("task 'bge-spam' takes texts: it matches "
                + "backbone.bge.tasks=bge-.* (text backbone bge-small-en-v15-q), so it cannot take \"image\"");
        assertThat(meters.get("headwater.extractor.dlq").tag("reason", "kind").counter().count()).isEqualTo(2.0);
    }

    @Test
    void shouldExportOneBackboneInfoSeriesPerBackbone() {
        Map<String, String> byName = new HashMap<>();
        for (Gauge g : meters.get("headwater.extractor.backbone.info").gauges()) {
            byName.put(g.getId().getTag("name"), g.getId().getTag("backbone"));
        }
        assertThat(byName).containsExactlyInAnyOrderEntriesOf(Map.of("default", "all-minilm-l6-v2-q",
                "bge", "bge-small-en-v15-q", "photos", "fashion-cnn"));
    }

    @Test
    void shouldServeEachTaskWithItsOwnBackboneOverHttp() throws Exception {
        // given: a trainer and a registry learn the three tasks' features, a version every 10 examples
        Map<String, String> loop = new HashMap<>(props);
        loop.put(TrainerConfig.HEAD_TYPE, "lda");
        loop.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "10");
        loop.put(RegistryConfig.GATE_FIRST_MIN_EXAMPLES, "10");
        loop.put(TrainerConfig.STATE_DIR, Files.createTempDirectory("multi-trainer").toString());
        loop.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("multi-registry").toString());
        loop.put(RegistryConfig.API_PORT, "-1");
        loop.put(ServingConfig.PORT, "0");
        Backbone bge = (Backbone) backbones.named().get("bge");
        try (StreamsService trainer = Trainer.start(new TrainerConfig(loop), new SimpleMeterRegistry());
             Registry registry = Registry.start(new RegistryConfig(loop), new SimpleMeterRegistry());
             Serving serving = Serving.start(new ServingConfig(loop), backbones.text(),
                     Pipeline.servingRules(new ExtractorConfig(loop), backbones),
                     new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            for (String task : List.of("spam", "bge-spam", "photos")) {
                while (serving.client(task).current(task).isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(serving.client(task).current(task)).as(task + " has a version").isPresent();
            }
            // then: each backbone's client follows only its own tasks
            assertThat(serving.client().current("bge-spam")).isEmpty();
            assertThat(serving.client().current("photos")).isEmpty();
            assertThat(serving.client("bge-spam")).isNotSameAs(serving.client());
            assertThat(serving.imageClient()).containsSame(serving.client("photos"));

            String email = sent.get("bge-spam").values().iterator().next();
            JsonNode spam = post(serving, "{\"task\": \"spam\", \"text\": " + Json.MAPPER.writeValueAsString(email)
                    + "}", 200);
            JsonNode viaBge = post(serving, "{\"task\": \"bge-spam\", \"text\": "
                    + Json.MAPPER.writeValueAsString(email) + "}", 200);
            JsonNode photo = post(serving, "{\"task\": \"photos\", \"image\": \"" + digit + "\"}", 200);
            assertThat(spam.get("predictions").get(0).get("scores").has("spam")).isTrue();
            assertThat(photo.get("predictions").get(0).get("scores").size()).isGreaterThan(1);
            // the named task's answer is its bge version on bge's own vector of the text
            var expected = serving.client("bge-spam").predict("bge-spam", bge.embed(List.of(email))[0]).orElseThrow();
            assertThat(viaBge.get("version").asLong()).isEqualTo(expected.version());
            for (int i = 0; i < expected.labels().size(); i++) {
                assertThat(viaBge.get("predictions").get(0).get("scores").get(expected.labels().get(i)).asDouble())
                        .isCloseTo(expected.probabilities()[i], within(1e-6));
            }
            // and: a request of the wrong kind for its backbone is a 400 naming the setting
            assertThat(post(serving, "{\"task\": \"photos\", \"text\": \"a shoe\"}", 400).get("error").asText())
                    .contains("task 'photos' takes images (backbone.photos.tasks=photos)");
            assertThat(post(serving, "{\"task\": \"bge-spam\", \"image\": \"" + digit + "\"}", 400).get("error")
                    .asText()).contains("task 'bge-spam' takes texts (backbone.bge.tasks=bge-.*)");
            assertThat(post(serving, "{\"task\": \"spam\", \"image\": \"" + digit + "\"}", 400).get("error")
                    .asText()).contains("task 'spam' takes texts");
        }
    }

    @Test
    void shouldCloseEveryBackbonesClientWhenServingCannotTakeItsPort() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Map<String, String> serving = new HashMap<>(props);
            serving.put(ServingConfig.PORT, Integer.toString(taken.getLocalPort()));
            serving.put(ServingConfig.BIND_ADDRESS, "127.0.0.1");
            long before = modelClientThreads();
            // when: three clients (bge, photos, the default) have started before the port is found taken
            assertThatThrownBy(() -> Serving.start(new ServingConfig(serving), backbones.text(),
                    Pipeline.servingRules(new ExtractorConfig(serving), backbones),
                    new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))
                    .hasMessageContaining(Integer.toString(taken.getLocalPort()));
            // then: none of them is left following model updates
            assertThat(modelClientThreads()).isEqualTo(before);
        }
    }

    @Test
    void shouldGoDownNamingTheBackboneWhenAnyBackbonesFollowerDies() throws Exception {
        Map<String, String> serving = new HashMap<>(props);
        serving.put(ServingConfig.PORT, "0");
        try (Serving s = Serving.start(new ServingConfig(serving), backbones.text(),
                Pipeline.servingRules(new ExtractorConfig(serving), backbones),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            HttpClient http = HttpClient.newHttpClient();
            URI live = URI.create("http://127.0.0.1:" + s.port() + "/health/live");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int status = 0;
            while (status != 200 && System.nanoTime() < deadline) {
                status = http.send(HttpRequest.newBuilder(live).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode();
                Thread.sleep(50);
            }
            assertThat(status).as("live once its three followers run").isEqualTo(200);
            // when: one of the three followers (whichever polls first) meets an unrecoverable error
            io.headwater.kafka.Faults.inject("client.poll", "fatal:1");
            try {
                assertThat(s.failure()).succeedsWithin(Duration.ofSeconds(30));
                // then: serving is down and says which backbone stopped following
                HttpResponse<String> down = http.send(HttpRequest.newBuilder(live).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(down.statusCode()).isEqualTo(503);
                assertThat(down.body()).contains("serving DOWN not following model updates for backbone ")
                        .containsAnyOf("all-minilm-l6-v2-q", "bge-small-en-v15-q", "fashion-cnn");
            } finally {
                io.headwater.kafka.Faults.clear();
            }
        }
    }

    private static long modelClientThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals("headwater-model-client")).count();
    }

    private static JsonNode post(Serving serving, String body, int status) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + serving.port() + "/predict")).POST(HttpRequest.BodyPublishers
                .ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return Json.MAPPER.readTree(r.body());
    }
}
