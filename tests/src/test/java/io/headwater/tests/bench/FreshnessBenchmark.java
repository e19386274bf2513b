package io.headwater.tests.bench;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.headwater.client.ModelClient;
import io.headwater.core.DenseLayer;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelMetrics;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topics;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Registry and consumer benchmark (not a test), in one run on the in-process broker:
 * <ol>
 *   <li>freshness: time from a candidate entering {@code model-candidates} to a subscribed
 *       {@link ModelClient} serving it (through the registry's validation, numbering and
 *       exactly-once commit), p50 and p99;</li>
 *   <li>serving: {@code POST /predict} throughput and p99 latency from 4 concurrent callers, one text
 *       per request, against the raw backbone embedding the same texts one at a time.</li>
 * </ol>
 *
 * <pre>{@code
 * tests/benchmark.sh freshness [--candidates N] [--requests N]
 * }</pre>
 */
public final class FreshnessBenchmark {
    private FreshnessBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int candidates = 200;
        int requests = 600;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--candidates" -> candidates = Integer.parseInt(args[++i]);
                case "--requests" -> requests = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("usage: FreshnessBenchmark [--candidates N] [--requests N]");
            }
        }
        Map<String, String> results = new LinkedHashMap<>();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
             Backbone backbone = Backbone.load(BackboneSpec.defaults())) {
            Map<String, String> props = new HashMap<>();
            props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            props.put(HeadwaterConfigs.TOPIC_PREFIX, "fresh.");
            props.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("fresh-registry").toString());
            props.put(RegistryConfig.API_PORT, "-1");
            props.put(RegistryConfig.GATE_FIRST_MIN_EXAMPLES, "1");
            props.put(RegistryConfig.GATE_MIN_WINDOW, "0");
            props.put(ServingConfig.PORT, "0");
            freshness(props, backbone, candidates, results);
            serving(props, backbone, requests, results);
        }
        results.forEach((k, v) -> System.out.println(k + ": " + v));
        System.exit(0);
    }

    private static void freshness(Map<String, String> props, Backbone backbone, int n, Map<String, String> results)
            throws Exception {
        RegistryConfig config = new RegistryConfig(props);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        BackboneRef ref = new BackboneRef(backbone.id(), backbone.sha256(), backbone.dimension());
        Map<Long, Long> sentAt = new ConcurrentHashMap<>();
        Map<Long, Long> appliedAt = new ConcurrentHashMap<>();
        try (Registry registry = Registry.start(config, new SimpleMeterRegistry());
             ModelClient client = ModelClient.builder(config.clientProperties(), topics).backbone(backbone).build();
             KafkaProducer<String, ModelCandidate> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, props.get(HeadwaterConfigs.BOOTSTRAP_SERVERS),
                     ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MODEL_MAX_BYTES),
                     new StringSerializer(), topics.modelCandidates().valueSerde().serializer())) {
            client.addListener(m -> appliedAt.put(m.version(), System.nanoTime()));
            client.start();
            Random rnd = new Random(1);
            for (long v = 1; v <= n; v++) {
                float[] w = new float[2 * ref.dimension()];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) rnd.nextGaussian();
                }
                byte[] head = new HeadArtifact(List.of("no", "yes"), List.of(new DenseLayer(ref.dimension(), 2, w,
                        new float[2], DenseLayer.Activation.SOFTMAX))).encode();
                ModelCandidate c = new ModelCandidate(ModelCandidate.FORMAT_VERSION, "task", "lda", List.of("no", "yes"),
                        ref, Base64.getEncoder().encodeToString(head), ModelMetrics.of(v, 0.9, 500, 500),
                        Map.of("0", v), "bench", Instant.now().toString(), Instant.now().toString(), "bench");
                sentAt.put(v, System.nanoTime());
                producer.send(new ProducerRecord<>(topics.modelCandidates().name(), "task", c)).get();
                Thread.sleep(50);
            }
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (appliedAt.size() < n && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        long[] ms = sentAt.entrySet().stream().filter(e -> appliedAt.containsKey(e.getKey()))
                .mapToLong(e -> (appliedAt.get(e.getKey()) - e.getValue()) / 1_000_000).sorted().toArray();
        results.put("candidates", n + " (one task, 384-d two-class heads, one every 50 ms)");
        results.put("candidate-to-client applied", ms.length + " of " + n);
        results.put("freshness p50 ms", Long.toString(ExtractorBenchmark.percentile(ms, 0.50)));
        results.put("freshness p99 ms", Long.toString(ExtractorBenchmark.percentile(ms, 0.99)));
        results.put("registry commit interval ms", Long.toString(config.commitIntervalMs()));
    }

    private static void serving(Map<String, String> props, Backbone backbone, int n, Map<String, String> results)
            throws Exception {
        List<String> texts = ExtractorBenchmark.texts(n);
        backbone.embed(texts.subList(0, 32));
        long t0 = System.nanoTime();
        for (String t : texts) {
            backbone.embed(List.of(t));
        }
        double raw = n / ((System.nanoTime() - t0) / 1e9);
        t0 = System.nanoTime();
        for (int i = 0; i < n; i += 32) {
            backbone.embed(texts.subList(i, Math.min(n, i + 32)));
        }
        double rawBatched = n / ((System.nanoTime() - t0) / 1e9);
        results.put("raw backbone, one text per call, sentences/s", String.format("%.1f", raw));
        results.put("raw backbone, 32 texts per call, sentences/s", String.format("%.1f", rawBatched));
        try (Serving serving = Serving.start(new ServingConfig(props), backbone,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (serving.client().current("task").isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            for (int callers : new int[] {1, 4, 16}) {
                double rate = predictAll(serving.port(), texts, callers, results);
                results.put("serving /predict, " + callers + " callers / raw one per call", String.format("%.3f", rate / raw));
                results.put("serving /predict, " + callers + " callers / raw 32 per call",
                        String.format("%.3f", rate / rawBatched));
            }
        }
    }

    /** One text per request from {@code callers} threads; records requests/s and p50/p99; returns requests/s. */
    private static double predictAll(int port, List<String> texts, int callers, Map<String, String> results)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = URI.create("http://127.0.0.1:" + port + "/predict");
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        List<Future<Long>> calls = new ArrayList<>();
        long s0 = System.nanoTime();
        for (String t : texts) {
            String body = io.headwater.kafka.Json.MAPPER.createObjectNode().put("task", "task").put("text", t).toString();
            calls.add(pool.submit(() -> {
                long c0 = System.nanoTime();
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
                }
                return (System.nanoTime() - c0) / 1_000_000;
            }));
        }
        long[] lat = new long[calls.size()];
        for (int i = 0; i < lat.length; i++) {
            lat[i] = calls.get(i).get();
        }
        double rate = texts.size() / ((System.nanoTime() - s0) / 1e9);
        pool.shutdown();
        java.util.Arrays.sort(lat);
        results.put("serving /predict, " + callers + " callers, one text per request, requests/s", String.format("%.1f", rate));
        results.put("serving /predict, " + callers + " callers, p50 / p99 ms", ExtractorBenchmark.percentile(lat, 0.5)
                + " / " + ExtractorBenchmark.percentile(lat, 0.99));
        return rate;
    }
}
