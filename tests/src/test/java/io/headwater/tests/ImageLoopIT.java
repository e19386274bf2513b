package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.cli.Pipeline;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * An image task beside a text task on one examples topic, through the whole loop on a real
 * in-process broker: the bundled fashion-cnn embeds real MNIST digits (data/mnist-digits.jsonl.gz)
 * while the int8 MiniLM embeds real e-mails, the trainer learns both, the registry publishes
 * versions built for each task's backbone, and serving answers an image. Malformed images, each
 * made from a real digit, are dead-lettered with their reasons between valid ones.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = java.util.concurrent.TimeUnit.MINUTES)
class ImageLoopIT {
    static final int DIGITS = 600;
    static final int EMAILS = 150;
    static final long SEED = 7;

    EmbeddedKafkaBroker broker;
    Pipeline pipeline;
    ModelUpdateWatcher watcher;
    Topics topics = Topics.withPrefix("img.");
    Map<String, Object> clientProps;
    Map<String, String> props = new HashMap<>();
    final Map<String, Set<String>> validIds = new HashMap<>();
    /** Malformed value -> the dead-letter error it must get. */
    final Map<String, String> bad = new LinkedHashMap<>();
    byte[] sampleDigit;
    String sampleLabel;

    @BeforeAll
    void runTheLoop() throws Exception {
        broker = EmbeddedKafkaBroker.start();
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(ExtractorConfig.IMAGE_TASKS, "digits");
        // 28 x 28 = 784 pixels fit; a 40 x 40 image (1,600) is too large, a 30 x 30 one (900) the wrong size.
        props.put(ExtractorConfig.IMAGE_MAX_PIXELS, "1000");
        props.put(ExtractorConfig.CACHE_DIR, "");
        props.put(TrainerConfig.HEAD_TYPE, "lda");
        props.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "150");
        props.put(TrainerConfig.CANDIDATE_EVERY_MS, "2000");
        props.put(TrainerConfig.STATE_DIR, Files.createTempDirectory("img-trainer").toString());
        props.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("img-registry").toString());
        clientProps = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
        pipeline = Pipeline.start(props, new SimpleMeterRegistry());
        watcher = new ModelUpdateWatcher(clientProps, topics, u -> { });

        List<Datasets.Line> digits = Datasets.shuffled(Datasets.bundled("mnist-digits"), SEED).subList(0, DIGITS);
        List<Datasets.Line> emails = Datasets.shuffled(Datasets.bundled("spam"), SEED).subList(0, EMAILS);
        JsonNode first = digits.get(0).json().orElseThrow();
        sampleDigit = Base64.getDecoder().decode(first.get("image").asText());
        sampleLabel = first.get("label").asText();
        BufferedImage digit = ImageIO.read(new ByteArrayInputStream(sampleDigit));
        badImage("not-an-image", "hello, I am not a picture".getBytes(StandardCharsets.UTF_8), "image-format");
        badImage("truncated", Arrays.copyOf(sampleDigit, sampleDigit.length / 2), "image-truncated");
        badImage("wrong-size", png(scaled(digit, 30, BufferedImage.TYPE_BYTE_GRAY)), "image-size");
        badImage("too-large", png(scaled(digit, 40, BufferedImage.TYPE_BYTE_GRAY)), "image-too-large");
        badImage("rgb", png(scaled(digit, 28, BufferedImage.TYPE_INT_RGB)), "image-channels");
        bad.put(example("bad-base64", "digits", "\"image\": \"not base64 at all!\""), "image-format");
        bad.put(example("text-for-images", "digits", "\"text\": \"seven\""), "kind");
        bad.put(example("image-for-texts", "spam", "\"image\": \"" + Base64.getEncoder().encodeToString(sampleDigit)
                + "\""), "kind");
        try (ExampleProducer producer = new ExampleProducer(clientProps, topics)) {
            List<String> malformed = new ArrayList<>(bad.keySet());
            int next = 0;
            for (int i = 0; i < DIGITS; i++) {
                send(producer, "digits", digits.get(i));
                if (i < EMAILS) {
                    send(producer, "spam", emails.get(i));
                }
                if (i % 50 == 25 && next < malformed.size()) {
                    String value = malformed.get(next++);
                    producer.sendRaw(value.contains("\"task\": \"spam\"") ? "spam" : "digits",
                            value.getBytes(StandardCharsets.UTF_8));
                }
            }
            while (next < malformed.size()) {
                String value = malformed.get(next++);
                producer.sendRaw(value.contains("\"task\": \"spam\"") ? "spam" : "digits",
                        value.getBytes(StandardCharsets.UTF_8));
            }
            producer.flush();
        }
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline && !allLearned()) {
            assertThat(pipeline.healthy()).as("every service is up").isTrue();
            Thread.sleep(250);
        }
    }

    private void send(ExampleProducer producer, String task, Datasets.Line line) {
        producer.send(task, line);
        validIds.computeIfAbsent(task, t -> new HashSet<>()).add(line.json().orElseThrow().get("id").asText());
    }

    private void badImage(String id, byte[] bytes, String error) {
        bad.put(example(id, "digits", "\"image\": \"" + Base64.getEncoder().encodeToString(bytes) + "\""), error);
    }

    private static String example(String id, String task, String input) {
        return "{\"id\": \"" + id + "\", \"task\": \"" + task + "\", " + input + ", \"label\": \"3\"}";
    }

    private static BufferedImage scaled(BufferedImage source, int side, int type) {
        BufferedImage out = new BufferedImage(side, side, type);
        out.createGraphics().drawImage(source, 0, 0, side, side, null);
        return out;
    }

    private static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private boolean allLearned() {
        return validIds.entrySet().stream().allMatch(e -> watcher.decidedOn(e.getKey(), "lda", e.getValue().size()));
    }

    @AfterAll
    void tearDown() {
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
    void shouldLearnEveryValidImageAndTextExactlyOnceAndPublishVersions() {
        for (var e : validIds.entrySet()) {
            List<ModelDecision> decisions = watcher.decisions(e.getKey());
            assertThat(decisions).as("decisions on " + e.getKey()).isNotEmpty();
            assertThat(decisions.get(decisions.size() - 1).candidate().metrics().examplesLearned())
                    .as(e.getKey()).isEqualTo(e.getValue().size());
            assertThat(watcher.updates(e.getKey())).as("versions of " + e.getKey()).isNotEmpty();
        }
        ModelUpdate digits = watcher.latest("digits").orElseThrow();
        assertThat(digits.backbone().id()).isEqualTo("fashion-cnn");
        assertThat(digits.backbone().sha256()).isEqualTo(pipeline.imageBackbone().orElseThrow().sha256());
        assertThat(watcher.latest("spam").orElseThrow().backbone().sha256()).isEqualTo(pipeline.backbone().sha256());
        // Digits are easy for an lda head on these features (evaluate: 0.87 from 500 labels).
        assertThat(digits.metrics().windowedAccuracy()).isGreaterThan(0.6);
    }

    @Test
    void shouldWriteOneFeatureRecordPerValidExampleWithItsTasksBackbone() {
        Map<String, List<String>> ids = new HashMap<>();
        for (ConsumerRecord<String, FeatureRecord> r : TopicReader.readAll(clientProps, topics.features().name(),
                new StringDeserializer(), topics.features().valueSerde().deserializer())) {
            ids.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value().exampleId());
            boolean image = r.key().equals("digits");
            assertThat(r.value().backboneId()).isEqualTo(image ? "fashion-cnn" : pipeline.backbone().id());
            assertThat(r.value().embedding()).hasSize(image ? 128 : pipeline.backbone().dimension());
        }
        for (var e : validIds.entrySet()) {
            assertThat(ids.get(e.getKey())).as(e.getKey()).hasSize(e.getValue().size())
                    .containsExactlyInAnyOrderElementsOf(e.getValue());
        }
    }

    @Test
    void shouldDeadLetterEveryMalformedImageWithItsReason() {
        List<ConsumerRecord<byte[], byte[]>> dlq = TopicReader.readAll(clientProps, topics.examplesDlq().name(),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Map<String, String> errors = new HashMap<>();
        Map<String, String> reasons = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dlq) {
            String value = new String(r.value(), StandardCharsets.UTF_8);
            errors.put(value, DeadLetters.header(r.headers(), DeadLetters.ERROR));
            reasons.put(value, DeadLetters.header(r.headers(), DeadLetters.REASON));
        }
        assertThat(dlq).hasSize(bad.size());
        assertThat(errors).containsExactlyInAnyOrderEntriesOf(bad);
        List<String> values = new ArrayList<>(bad.keySet());
        assertThat(reasons.get(values.get(0))).startsWith("not an image");
        assertThat(reasons.get(values.get(1))).startsWith("truncated PNG");
        assertThat(reasons.get(values.get(2))).isEqualTo("wrong size: PNG is 30 x 30 but backbone fashion-cnn takes "
                + "28 x 28 (backbone.image.resize=exact)");
        assertThat(reasons.get(values.get(3))).isEqualTo("image is 40 x 40 = 1600 pixels, over "
                + "backbone.image.max.pixels=1000");
        assertThat(reasons.get(values.get(4))).contains("3 (RGB)", "takes 1 (grey)");
        assertThat(reasons.get(values.get(6))).contains("task 'digits' takes images");
        assertThat(reasons.get(values.get(7))).contains("task 'spam' takes texts");
    }

    @Test
    void shouldPredictAnImageOverHttp() throws Exception {
        Map<String, String> serving = new HashMap<>(props);
        serving.put(ServingConfig.PORT, "0");
        try (Serving s = Serving.start(new ServingConfig(serving), pipeline.backbone(),
                Pipeline.servingRules(new ExtractorConfig(serving), pipeline.backbones()),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            long newest = watcher.latest("digits").orElseThrow().version();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (s.imageClient().orElseThrow().current("digits").map(m -> m.version()).orElse(0L) < newest
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            HttpClient http = HttpClient.newHttpClient();
            URI predict = URI.create("http://127.0.0.1:" + s.port() + "/predict");
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(predict).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"task\": \"digits\", \"image\": \"" + Base64.getEncoder().encodeToString(sampleDigit) + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            JsonNode json = Json.MAPPER.readTree(ok.body());
            assertThat(json.get("version").asLong()).isEqualTo(newest);
            assertThat(json.get("predictions").get(0).get("scores").has(sampleLabel)).isTrue();
            HttpResponse<String> text = http.send(HttpRequest.newBuilder(predict).POST(HttpRequest.BodyPublishers
                    .ofString("{\"task\": \"digits\", \"text\": \"seven\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(text.statusCode()).isEqualTo(400);
            assertThat(text.body()).contains("takes images");
            HttpResponse<String> broken = http.send(HttpRequest.newBuilder(predict).POST(HttpRequest.BodyPublishers
                    .ofString("{\"task\": \"digits\", \"image\": \"" + Base64.getEncoder().encodeToString(
                            Arrays.copyOf(sampleDigit, 40)) + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(broken.statusCode()).isEqualTo(400);
            assertThat(broken.body()).contains("\"reason\":\"image-truncated\"");
        }
    }
}
