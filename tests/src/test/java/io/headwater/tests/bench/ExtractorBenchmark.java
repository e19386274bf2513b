package io.headwater.tests.bench;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.ImageBackbone;
import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.extractor.Extractor;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Extractor benchmark (not a test): in one run, on one fixed set of real mixed-length texts,
 * <ol>
 *   <li>the raw backbone alone (tokenize + run + pool), in chunks of the extractor's batch size;</li>
 *   <li>the same texts through the whole extractor on an in-process broker (produce first, then
 *       time from the extractor's start to the last committed feature record);</li>
 *   <li>produce-to-feature latency at half the measured extractor throughput.</li>
 * </ol>
 * It prints sentences/s for both and their ratio, and latency p50/p99, and writes them to a file.
 *
 * <pre>{@code
 * tests/benchmark.sh                      # CPU, defaults
 * tests/benchmark.sh --texts 4000 -D backbone.name=all-minilm-l6-v2
 * tests/benchmark.sh images               # the same for the image backbone on MNIST digits
 * }</pre>
 */
public final class ExtractorBenchmark {
    private ExtractorBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = 2000;
        boolean images = false;
        Path out = Path.of("tests", "target", "benchmark.txt");
        Map<String, String> props = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--texts" -> n = Integer.parseInt(args[++i]);
                case "images" -> {
                    images = true;
                    n = 30_000;
                    out = Path.of("tests", "target", "benchmark-images.txt");
                }
                case "--images" -> n = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "-D" -> {
                    String[] kv = args[++i].split("=", 2);
                    props.put(kv[0], kv[1]);
                }
                case "--help", "-h" -> {
                    System.out.println("usage: ExtractorBenchmark [--texts N] [--out FILE] [-D key=value ...]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: ExtractorBenchmark [--texts N] [--out FILE] [-D key=value ...]");
            }
        }
        Map<String, String> results;
        try {
            results = images ? runImages(n, props) : run(n, props);
        } catch (io.headwater.core.HeadwaterException e) {
            System.err.println("benchmark: " + e.getMessage());
            System.exit(1);
            return;
        }
        StringBuilder text = new StringBuilder();
        results.forEach((k, v) -> text.append(k).append(": ").append(v).append('\n'));
        System.out.print(text);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, text.toString(), StandardCharsets.UTF_8);
        System.out.println("written to " + out.toAbsolutePath());
        System.exit(0);
    }

    /** The fixed text set: bundled food reviews and e-mails, mixed, in a seeded order. */
    static List<String> texts(int n) {
        List<String> all = new ArrayList<>();
        for (String task : List.of("fine-foods", "spam")) {
            Datasets.bundled(task).forEach(l -> all.add(l.json().orElseThrow().get("text").asText()));
        }
        return Datasets.shuffled(all, 5).subList(0, Math.min(n, all.size()));
    }

    /** The extractor's settings on the benchmark's broker: one partition, no embedding cache. */
    private static Map<String, String> benchProps(EmbeddedKafkaBroker broker, Map<String, String> overrides) {
        Map<String, String> props = new HashMap<>(overrides);
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, "bench.");
        props.put(HeadwaterConfigs.TOPIC_PARTITIONS, "1");
        props.put(ExtractorConfig.CACHE_DIR, "");
        return props;
    }

    static Map<String, String> run(int n, Map<String, String> overrides) throws Exception {
        Map<String, String> results = new LinkedHashMap<>();
        List<String> texts = texts(n);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            Map<String, String> props = benchProps(broker, overrides);
            ExtractorConfig config = new ExtractorConfig(props);
            int batch = config.batchMaxRecords();
            try (Backbone backbone = Backbone.load(config.backboneSpec())) {
                results.put("backbone", backbone.id() + " (sha256 " + backbone.sha256().substring(0, 12) + ") on "
                        + backbone.provider() + (backbone.rowByRow() ? ", row by row" : ", padded batches of "
                        + config.backboneSpec().batchSize()));
                results.put("texts", texts.size() + " (bundled food reviews and e-mails, mixed lengths, max "
                        + config.backboneSpec().maxTokens() + " tokens)");
                results.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
                backbone.embed(texts.subList(0, Math.min(64, texts.size())));

                long t0 = System.nanoTime();
                for (int i = 0; i < texts.size(); i += batch) {
                    backbone.embed(texts.subList(i, Math.min(texts.size(), i + batch)));
                }
                double rawRate = texts.size() / ((System.nanoTime() - t0) / 1e9);
                results.put("raw backbone sentences/s", String.format("%.1f", rawRate));

                List<String> sample = texts.subList(0, Math.min(600, texts.size()));
                double sorted = rawRate(config, Backbone.Execution.PADDED_BATCHES, sample);
                double unsorted = rawRate(config, Backbone.Execution.UNSORTED_BATCHES, sample);
                results.put("raw, length-sorted padded batches of " + config.backboneSpec().batchSize()
                        + " sentences/s", String.format("%.1f", sorted));
                results.put("raw, unsorted padded batches of " + config.backboneSpec().batchSize()
                        + " sentences/s", String.format("%.1f", unsorted));
                results.put("length grouping speed-up (sorted / unsorted batches)", String.format("%.2f", sorted / unsorted));
                if (backbone.rowByRow()) {
                    double rows = rawRate(config, Backbone.Execution.ROW_BY_ROW, sample);
                    results.put("raw, row by row sentences/s", String.format("%.1f", rows));
                    results.put("row by row / unsorted batches", String.format("%.2f", rows / unsorted));
                }

                double extractorRate = throughput(props, config, backbone, texts);
                results.put("extractor sentences/s", String.format("%.1f", extractorRate));
                results.put("extractor / raw backbone", String.format("%.3f", extractorRate / rawRate));

                long[] latency = latencies(props, config, backbone, texts.subList(0, Math.min(600, texts.size())),
                        extractorRate / 2);
                results.put("latency rate examples/s", String.format("%.1f", extractorRate / 2));
                results.put("produce-to-feature p50 ms", Long.toString(percentile(latency, 0.50)));
                results.put("produce-to-feature p99 ms", Long.toString(percentile(latency, 0.99)));
            }
        }
        return results;
    }

    /** Rounds of the image mode. */
    static final int ROUNDS = 3;

    /** The fixed image set: the bundled MNIST digits (base64 PNGs) in a seeded order, repeated to reach n. */
    static List<String> images(int n) {
        List<String> all = new ArrayList<>();
        Datasets.bundled("mnist-digits").forEach(l -> all.add(l.json().orElseThrow().get("image").asText()));
        List<String> shuffled = Datasets.shuffled(all, 5);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(shuffled.get(i % shuffled.size()));
        }
        return out;
    }

    /**
     * Image mode: the image backbone alone (base64 decode, PNG decode and checks, normalise, run,
     * pool) against the whole extractor on the same images, in one run.
     */
    static Map<String, String> runImages(int n, Map<String, String> overrides) throws Exception {
        Map<String, String> results = new LinkedHashMap<>();
        List<String> images = images(n);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            Map<String, String> props = benchProps(broker, overrides);
            props.putIfAbsent(ExtractorConfig.IMAGE_TASKS, "bench");
            ExtractorConfig config = new ExtractorConfig(props);
            int batch = config.batchMaxRecords();
            // The raw backbone alone is also timed with ONNX Runtime's own default, an intra-op thread
            // per core, and the faster of the two is the baseline: the extractor's default (one core
            // left to its consumer thread) must not make the backbone alone look slower than it can be.
            int cores = Runtime.getRuntime().availableProcessors();
            Map<String, String> allCores = new HashMap<>(props);
            allCores.put(ExtractorConfig.IMAGE_THREADS, Integer.toString(cores));
            boolean second = config.imageThreads() != cores;
            try (Backbone backbone = Backbone.load(config.backboneSpec());
                 ImageBackbone imageBackbone = ImageBackbone.load(config.imageBackboneSpec());
                 ImageBackbone perCore = second ? ImageBackbone.load(new ExtractorConfig(allCores).imageBackboneSpec())
                         : null) {
                results.put("image backbone", imageBackbone.id() + " (sha256 " + imageBackbone.sha256().substring(0, 12)
                        + ") on " + imageBackbone.provider() + ", batches of " + imageBackbone.batchSize() + ", "
                        + config.imageThreads() + " intra-op thread(s)" + (second ? "; raw also with " + cores : ""));
                results.put("images", images.size() + " (bundled MNIST digits, 28 x 28 grey PNG, base64)");
                results.put("cores", Integer.toString(cores));
                rawImages(imageBackbone, images.subList(0, Math.min(1000, images.size())), batch);
                if (second) {
                    rawImages(perCore, images.subList(0, Math.min(1000, images.size())), batch);
                }
                // The extractor warmed up as the raw loop is (its decoding, parsing and Kafka paths
                // compiled), untimed, before the rounds.
                phase(props, config, backbone, Optional.of(imageBackbone), images.subList(0, Math.min(2000,
                        images.size())), "image", 0, "bench-warm.");
                // Rounds of raw then extractor, each ratio from its own round: on a shared machine the
                // load changes from minute to minute, and the median of the rounds is what is reported.
                List<Double> ratios = new ArrayList<>();
                for (int round = 1; round <= ROUNDS; round++) {
                    double rawRate = rawImages(imageBackbone, images, batch);
                    String rawText = String.format("%.1f", rawRate);
                    if (second) {
                        double perCoreRate = rawImages(perCore, images, batch);
                        rawText = String.format("max(%.1f, %.1f with %d threads)", rawRate, perCoreRate, cores);
                        rawRate = Math.max(rawRate, perCoreRate);
                    }
                    Phase extractor = phase(props, config, backbone, Optional.of(imageBackbone), images, "image",
                            0, "bench-" + round + ".", true);
                    double extractorRate = extractor.throughput();
                    ratios.add(extractorRate / rawRate);
                    results.put("round " + round + ": raw image backbone images/s, extractor images/s, ratio",
                            String.format("%s, %.1f, %.3f", rawText, extractorRate, extractorRate / rawRate));
                    // Where the extractor's time went: an embed thread running the backbone all the
                    // time but on a core for less of it is waiting for CPU, not for Kafka.
                    results.put("round " + round + ": embed thread running the backbone, on a core; other threads' cores",
                            String.format("%.0f %%, %.0f %%; %.2f", 100 * extractor.embedBusy(),
                                    100 * extractor.embedCores(), extractor.otherCores()));
                }
                List<Double> sorted = ratios.stream().sorted().toList();
                results.put("extractor / raw image backbone (median of " + ROUNDS + " rounds)",
                        String.format("%.3f", sorted.get(sorted.size() / 2)));
            }
        }
        return results;
    }

    /** Images/s of the image backbone alone, decode included, in chunks of the extractor's batch size. */
    private static double rawImages(ImageBackbone backbone, List<String> images, int batch) {
        long t0 = System.nanoTime();
        for (int i = 0; i < images.size(); i += batch) {
            List<byte[]> chunk = new ArrayList<>();
            for (String image : images.subList(i, Math.min(images.size(), i + batch))) {
                chunk.add(java.util.Base64.getDecoder().decode(image));
            }
            backbone.embedImages(chunk);
        }
        return images.size() / ((System.nanoTime() - t0) / 1e9);
    }

    /** Raw backbone sentences/s on the texts with a forced grouping, in chunks of the extractor's batch size. */
    private static double rawRate(ExtractorConfig config, Backbone.Execution execution, List<String> texts) {
        try (Backbone b = Backbone.load(config.backboneSpec(), execution)) {
            b.embed(texts.subList(0, Math.min(32, texts.size())));
            long t0 = System.nanoTime();
            for (int i = 0; i < texts.size(); i += config.batchMaxRecords()) {
                b.embed(texts.subList(i, Math.min(texts.size(), i + config.batchMaxRecords())));
            }
            return texts.size() / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * Whole-extractor throughput on a running service: the extractor is started and warmed up
     * (group joined, transactions initialised, 20 examples through), then all texts are produced at
     * once and timed from the first send to the last committed feature record.
     */
    private static double throughput(Map<String, String> props, ExtractorConfig config, Backbone backbone,
                                     List<String> texts) {
        return phase(props, config, backbone, Optional.empty(), texts, "text", 0, "bench.").throughput();
    }

    private static long[] latencies(Map<String, String> props, ExtractorConfig config, Backbone backbone,
                                    List<String> texts, double rate) {
        return phase(props, config, backbone, Optional.empty(), texts, "text", rate, "bench-latency.").latencies();
    }

    /**
     * @param embedBusy  share of the wall time the embed thread was running the backbone (its timer)
     * @param embedCores CPU seconds of the embed thread per wall second: below embedBusy, it waited for a core
     * @param otherCores CPU seconds of every other thread of this JVM (broker, clients, extractor poll
     *                   thread, the benchmark's producer and watcher) per wall second
     */
    private record Phase(double throughput, long[] latencies, double embedBusy, double embedCores,
                         double otherCores) {
    }

    /**
     * The backlog drained: every example produced first, then the extractor started; timed from the
     * moment the first features are seen committed (the extractor has joined its group and made its
     * first transaction) to the last, counting only the examples committed after that moment.
     */
    private static Phase drainPhase(Map<String, String> props, Backbone backbone, Optional<ImageBackbone> imageBackbone,
                                    List<String> texts, String field, String prefix) {
        Map<String, String> p = new HashMap<>(props);
        p.put(HeadwaterConfigs.TOPIC_PREFIX, prefix);
        ExtractorConfig c = new ExtractorConfig(p);
        Topics topics = Topics.withPrefix(c.topicPrefix());
        Extractor.ensureTopics(c);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (FeatureWatcher watcher = new FeatureWatcher(p, topics)) {
            // The watcher's group join takes the seconds a just-created topic needs: an idempotent
            // producer sending at once got NOT_LEADER_OR_FOLLOWER, then retried out-of-order
            // sequences until its delivery timeout.
            watcher.awaitAssignment();
            produce(p, topics, "timed", texts, field, new ConcurrentHashMap<>(), 0);
            return drain(c, backbone, imageBackbone, texts.size(), watcher, meters);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Phase drain(ExtractorConfig c, Backbone backbone, Optional<ImageBackbone> imageBackbone, int n,
                               FeatureWatcher watcher, SimpleMeterRegistry meters) {
        try (Extractor extractor = new Extractor(c, backbone, imageBackbone, meters)) {
            new Thread(extractor, "bench-extractor").start();
            watcher.awaitCount(1, Duration.ofMinutes(5));
            long t0 = System.nanoTime();
            int before = watcher.receivedAt.size();
            Map<String, Long> cpuBefore = threadCpu();
            double backboneBefore = backboneSeconds(meters);
            watcher.awaitCount(n, Duration.ofMinutes(30));
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Long> cpuAfter = threadCpu();
            return cores(new Phase((n - before) / seconds, new long[0], 0, 0, 0), cpuBefore, cpuAfter, meters,
                    (backboneSeconds(meters) - backboneBefore) / seconds, seconds);
        }
    }

    /**
     * {@code phase} with where the CPU went: the embed thread's and every other thread's cores per
     * wall second; with {@code -Dbench.profile=true} also printed by thread, with the extractor's timers.
     */
    private static Phase cores(Phase phase, Map<String, Long> cpuBefore, Map<String, Long> cpuAfter,
                               SimpleMeterRegistry meters, double embedBusy, double seconds) {
        if (Boolean.getBoolean("bench.profile")) {
            printCpu(cpuBefore, cpuAfter, seconds);
            printTimers(meters);
        }
        long embedCpu = 0;
        long otherCpu = 0;
        for (Map.Entry<String, Long> e : cpuAfter.entrySet()) {
            long used = e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L);
            if (e.getKey().startsWith("headwater-extractor-embed")) {
                embedCpu += used;
            } else {
                otherCpu += used;
            }
        }
        return new Phase(phase.throughput(), phase.latencies(), embedBusy, embedCpu / 1e9 / seconds,
                otherCpu / 1e9 / seconds);
    }

    private static double backboneSeconds(SimpleMeterRegistry meters) {
        var timer = meters.find("headwater.extractor.backbone.latency").timer();
        return timer == null ? 0 : timer.totalTime(TimeUnit.SECONDS);
    }

    private static Phase phase(Map<String, String> props, ExtractorConfig config, Backbone backbone,
                               Optional<ImageBackbone> imageBackbone, List<String> texts, String field, double rate,
                               String prefix) {
        return phase(props, config, backbone, imageBackbone, texts, field, rate, prefix, false);
    }

    /**
     * @param backlog produce every example before the extractor starts, then time from its first
     *                committed features to its last, so that the benchmark's own producer (and the
     *                broker taking its sends) do not share the cores with the extractor being timed
     */
    private static Phase phase(Map<String, String> props, ExtractorConfig config, Backbone backbone,
                               Optional<ImageBackbone> imageBackbone, List<String> texts, String field, double rate,
                               String prefix, boolean backlog) {
        if (backlog) {
            return drainPhase(props, backbone, imageBackbone, texts, field, prefix);
        }
        Map<String, String> p = new HashMap<>(props);
        p.put(HeadwaterConfigs.TOPIC_PREFIX, prefix);
        ExtractorConfig c = new ExtractorConfig(p);
        Topics topics = Topics.withPrefix(c.topicPrefix());
        Extractor.ensureTopics(c);
        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (FeatureWatcher watcher = new FeatureWatcher(p, topics);
             Extractor extractor = new Extractor(c, backbone, imageBackbone, meters)) {
            watcher.awaitAssignment();
            new Thread(extractor, "bench-extractor").start();
            List<String> warmUp = texts.subList(0, Math.min(20, texts.size()));
            produce(p, topics, "warm-up", warmUp, field, new ConcurrentHashMap<>(), 0);
            watcher.awaitCount(warmUp.size(), Duration.ofMinutes(5));
            Map<String, Long> cpuBefore = threadCpu();
            double backboneBefore = backboneSeconds(meters);
            long t0 = System.nanoTime();
            produce(p, topics, "timed", texts, field, sentAt, rate);
            watcher.awaitCount(warmUp.size() + texts.size(), Duration.ofMinutes(30));
            double seconds = (System.nanoTime() - t0) / 1e9;
            double throughput = texts.size() / seconds;
            Map<String, Long> cpuAfter = threadCpu();
            long[] lat = sentAt.entrySet().stream()
                    .mapToLong(e -> watcher.receivedAt.get(e.getKey()) - e.getValue()).sorted().toArray();
            return cores(new Phase(throughput, lat, 0, 0, 0), cpuBefore, cpuAfter, meters,
                    (backboneSeconds(meters) - backboneBefore) / seconds, seconds);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void produce(Map<String, String> props, Topics topics, String prefix, List<String> texts,
                                String field, Map<String, Long> sentAt, double rate) {
        Map<String, Object> client = HeadwaterConfigs.clientProperties(
                HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
        try (ExampleProducer producer = new ExampleProducer(client, topics)) {
            long start = System.nanoTime();
            for (int i = 0; i < texts.size(); i++) {
                String id = prefix + "-" + i + "-" + UUID.randomUUID();
                var node = io.headwater.kafka.Json.MAPPER.createObjectNode()
                        .put("id", id).put(field, texts.get(i)).put("label", "x");
                if (rate > 0) {
                    long wait = start + (long) (i / rate * 1e9) - System.nanoTime();
                    if (wait > 0) {
                        sleep(wait / 1_000_000);
                    }
                }
                sentAt.put(id, System.currentTimeMillis());
                producer.send("bench", new Datasets.Line(i, node.toString(), java.util.Optional.of(node)));
            }
            producer.flush();
        }
    }

    /** CPU seconds per thread-name group, to see where the time outside the backbone goes. */
    private static Map<String, Long> threadCpu() {
        return ThreadCpu.byGroup(name -> name.replaceAll("[-_ ]?\\d+", "#"));
    }

    private static void printCpu(Map<String, Long> before, Map<String, Long> after, double seconds) {
        System.out.printf("CPU seconds by thread group over %.1f s of wall time:%n", seconds);
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 10_000_000L)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> System.out.printf("  %6.2f  %s%n", e.getValue() / 1e9, e.getKey()));
    }

    /** The extractor's commit and backbone timers (warm-up included): how long a transaction and an embedding take. */
    private static void printTimers(SimpleMeterRegistry meters) {
        for (String name : List.of("headwater.extractor.commit.latency", "headwater.extractor.backbone.latency")) {
            var timer = meters.find(name).timer();
            if (timer != null) {
                System.out.printf("  %s: %d, mean %.1f ms, max %.1f ms, total %.2f s%n", name, timer.count(),
                        timer.mean(TimeUnit.MILLISECONDS), timer.max(TimeUnit.MILLISECONDS),
                        timer.totalTime(TimeUnit.SECONDS));
            }
        }
    }

    static long percentile(long[] sorted, double p) {
        return sorted.length == 0 ? -1 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A read_committed consumer of features that notes when each example id arrived. */
    private static final class FeatureWatcher implements AutoCloseable {
        final Map<String, Long> receivedAt = new ConcurrentHashMap<>();
        private final KafkaConsumer<String, FeatureRecord> consumer;
        private final Thread thread;
        private volatile boolean running = true;
        private volatile boolean assigned;

        FeatureWatcher(Map<String, String> props, Topics topics) {
            Map<String, Object> c = new HashMap<>(HeadwaterConfigs.clientProperties(
                    HeadwaterConfigs.parse(HeadwaterConfigs.common(), props)));
            c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID());
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            consumer = new KafkaConsumer<>(c, new StringDeserializer(), topics.features().valueSerde().deserializer());
            consumer.subscribe(List.of(topics.features().name()));
            thread = new Thread(() -> {
                while (running) {
                    var records = consumer.poll(Duration.ofMillis(20));
                    assigned |= !consumer.assignment().isEmpty();
                    long now = System.currentTimeMillis();
                    records.forEach(r -> receivedAt.put(r.value().exampleId(), now));
                }
                consumer.close();
            }, "bench-feature-watcher");
            thread.start();
        }

        void awaitAssignment() {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!assigned && System.nanoTime() < deadline) {
                sleep(10);
            }
        }

        void awaitCount(int n, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (receivedAt.size() < n) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + receivedAt.size() + " of " + n + " features arrived");
                }
                sleep(5);
            }
        }

        @Override
        public void close() throws IOException {
            running = false;
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

}
