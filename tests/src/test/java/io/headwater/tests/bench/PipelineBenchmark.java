package io.headwater.tests.bench;

import io.headwater.backbone.Backbone;
import io.headwater.cli.Datasets;
import io.headwater.core.Head;
import io.headwater.core.HeadType;
import io.headwater.extractor.Extractor;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.Example;
import io.headwater.kafka.ExampleParser;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topics;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.Trainer;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Pipeline benchmark (not a test): vector examples (real texts embedded once by the bundled
 * backbone, so no backbone runs in the stages) through extractor, trainer and registry on an
 * in-process broker. In one run:
 * <ol>
 *   <li>each head type alone on one thread, test-then-train over the same examples: the baseline;</li>
 *   <li>one task: the backlog produced first, then each stage alone drains it (extractor, trainer
 *       per head type, registry), rates from its first commit to its last, with the trainer's state
 *       bytes written and changelog bytes per example; then all three at once on a fresh backlog
 *       (end to end);</li>
 *   <li>many tasks: 100 tasks on 4 partitions, trainer with 2 stream threads, {@code lda};</li>
 *   <li>latency from an example's send to the first published version that learned it, with
 *       examples streaming at half the measured end-to-end rate.</li>
 * </ol>
 *
 * <pre>{@code
 * tests/benchmark.sh pipeline                        # 20,000 examples, 100 tasks
 * tests/benchmark.sh pipeline --examples 40000 --heads lda
 * }</pre>
 */
public final class PipelineBenchmark {
    private static final String USAGE = "usage: PipelineBenchmark [--examples N] [--tasks N] [--heads lda,sgd] "
            + "[--texts N] [--latency-seconds S] [--no-many] [--no-latency] [--only-many] [-D key=value ...] [--out FILE]";
    private static final String TASK = "bench";
    /** {@code -D key=value}: settings for every stage. */
    private static final Map<String, String> OVERRIDES = new HashMap<>();

    private final Map<String, String> results = new LinkedHashMap<>();
    private final int examples;
    private final int tasks;
    private final List<HeadType> heads;
    private final List<float[]> vectors = new ArrayList<>();
    private final List<String> labels = new ArrayList<>();
    private EmbeddedKafkaBroker broker;
    private Admin admin;

    private PipelineBenchmark(int examples, int tasks, List<HeadType> heads) {
        this.examples = examples;
        this.tasks = tasks;
        this.heads = heads;
    }

    public static void main(String[] args) throws Exception {
        int examples = 20_000;
        int tasks = 100;
        int texts = 1_000;
        double latencySeconds = 20;
        boolean many = true;
        boolean latency = true;
        boolean one = true;
        List<HeadType> heads = List.of(HeadType.values());
        Path out = Path.of("tests", "target", "pipeline-benchmark.txt");
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--examples" -> examples = Integer.parseInt(args[++i]);
                    case "--tasks" -> tasks = Integer.parseInt(args[++i]);
                    case "--texts" -> texts = Integer.parseInt(args[++i]);
                    case "--latency-seconds" -> latencySeconds = Double.parseDouble(args[++i]);
                    case "--heads" -> heads = java.util.Arrays.stream(args[++i].split(",")).map(HeadType::of).toList();
                    case "--no-many" -> many = false;
                    case "--no-latency" -> latency = false;
                    case "--only-many" -> {
                        one = false;
                        latency = false;
                    }
                    case "--out" -> out = Path.of(args[++i]);
                    case "-D" -> {
                        String[] kv = args[++i].split("=", 2);
                        OVERRIDES.put(kv[0], kv[1]);
                    }
                    case "--help", "-h" -> {
                        System.out.println(USAGE);
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
        } catch (RuntimeException e) {
            System.err.println("benchmark: " + e.getMessage() + "\n" + USAGE);
            System.exit(2);
        }
        PipelineBenchmark b = new PipelineBenchmark(examples, tasks, heads);
        b.embed(texts);
        if (one) {
            b.headsAlone();
        }
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
             Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            b.broker = broker;
            b.admin = admin;
            if (one) {
                b.oneTask();
                b.endToEnd();
            }
            if (many) {
                b.manyTasks();
            }
            if (latency) {
                b.latency(latencySeconds);
            }
        }
        StringBuilder text = new StringBuilder();
        b.results.forEach((k, v) -> text.append(k).append(": ").append(v).append('\n'));
        System.out.print(text);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, text.toString(), StandardCharsets.UTF_8);
        System.out.println("written to " + out.toAbsolutePath());
        System.exit(0);
    }

    private void put(String key, String format, Object... args) {
        String value = String.format(java.util.Locale.ROOT, format, args);
        results.put(key, value);
        System.out.println(key + ": " + value);
    }

    /** Real vectors: the bundled fortunes (43 classes), embedded once by the bundled backbone. */
    private void embed(int n) {
        List<Datasets.Line> lines = Datasets.shuffled(Datasets.bundled("fortunes"), 3);
        lines = lines.subList(0, Math.min(n, lines.size()));
        List<String> texts = lines.stream().map(l -> l.json().orElseThrow().get("text").asText()).toList();
        long t0 = System.nanoTime();
        try (Backbone backbone = Backbone.load(new ExtractorConfig(Map.of()).backboneSpec())) {
            for (int i = 0; i < texts.size(); i += 64) {
                for (float[] v : backbone.embed(texts.subList(i, Math.min(texts.size(), i + 64)))) {
                    vectors.add(v);
                }
            }
            put("backbone", "%s, %d dims; %d bundled fortunes embedded once in %.1f s (%d labels), cycled with "
                    + "distinct ids", backbone.id(), backbone.dimension(), texts.size(), (System.nanoTime() - t0) / 1e9,
                    lines.stream().map(l -> l.json().orElseThrow().get("label").asText()).distinct().count());
        }
        lines.forEach(l -> labels.add(l.json().orElseThrow().get("label").asText()));
        put("cores", "%d", Runtime.getRuntime().availableProcessors());
    }

    private float[] vector(int i) {
        return vectors.get(i % vectors.size());
    }

    private String label(int i) {
        return labels.get(i % labels.size());
    }

    /** Each head alone, one thread, fresh, over the examples in order: what the trainer is measured against. */
    private void headsAlone() {
        TrainerConfig config = new TrainerConfig(Map.of());
        for (HeadType type : heads) {
            for (int round = 0; round < 2; round++) {
                // The first round warms the JIT up; the second is measured.
                Head head = type.create(vectors.get(0).length, config.headOptions());
                long sink = 0;
                long cpu0 = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                for (int i = 0; i < examples; i++) {
                    sink += head.predict(vector(i)).map(String::length).orElse(0);
                    head.learn(vector(i), label(i));
                }
                double rate = examples / ((System.nanoTime() - t0) / 1e9);
                double cpuRate = examples / ((java.lang.management.ManagementFactory.getThreadMXBean()
                        .getCurrentThreadCpuTime() - cpu0) / 1e9);
                long e0 = System.nanoTime();
                for (int k = 0; k < 5; k++) {
                    sink += head.export().encode().length;
                }
                double exportMs = (System.nanoTime() - e0) / 5e6;
                if (round == 1) {
                    put("head alone " + type.id() + " candidate export ms", "%.1f", exportMs);
                    put("head alone " + type.id() + " test-then-train examples/s", "%.0f (sink %d)", rate, sink % 10);
                    put("head alone " + type.id() + " test-then-train examples per CPU second", "%.0f", cpuRate);
                }
            }
        }
    }

    /** The lda head alone on {@code tasks} interleaved tasks (fresh heads, each label new per task), one thread. */
    private void manyHeadsAlone() {
        TrainerConfig config = new TrainerConfig(Map.of());
        List<Head> many = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            many.add(HeadType.LDA.create(vectors.get(0).length, config.headOptions()));
        }
        long sink = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < examples; i++) {
            Head head = many.get(i % tasks);
            sink += head.predict(vector(i)).map(String::length).orElse(0);
            head.learn(vector(i), label(i));
        }
        double rate = examples / ((System.nanoTime() - t0) / 1e9);
        put("head alone lda, " + tasks + " tasks interleaved, test-then-train examples/s", "%.0f (sink %d)", rate,
                sink % 10);
    }

    private Map<String, String> props(String prefix, int partitions) {
        Map<String, String> p = new HashMap<>(OVERRIDES);
        p.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        p.put(HeadwaterConfigs.TOPIC_PREFIX, prefix);
        p.put(HeadwaterConfigs.TOPIC_PARTITIONS, Integer.toString(partitions));
        p.put(ExtractorConfig.CACHE_DIR, "");
        p.put(RegistryConfig.API_PORT, "-1");
        // Each phase its own groups and application ids: committed offsets are compared with its topics only.
        String phase = prefix.replace(".", "");
        p.put(ExtractorConfig.GROUP_ID, "bench-extractor-" + phase);
        p.put(TrainerConfig.APPLICATION_ID, "bench-trainer-" + phase);
        p.put(RegistryConfig.APPLICATION_ID, "bench-registry-" + phase);
        try {
            p.put(TrainerConfig.STATE_DIR, Files.createTempDirectory("bench-trainer").toString());
            p.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("bench-registry").toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return p;
    }

    /** Writes the examples onto {@code examples}, task {@code i % taskCount}, and waits for the acks. */
    private void produce(Map<String, String> p, int taskCount, int from, int to, double rate, Map<Integer, Long> sentAt) {
        Topics topics = Topics.withPrefix(p.get(HeadwaterConfigs.TOPIC_PREFIX));
        Map<String, Object> c = new HashMap<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.ACKS_CONFIG, "all",
                // One request at a time: an idempotent producer's first request to a fresh partition can
                // fail retriably while a later one is accepted, and the first is then retried as out of
                // order until its delivery timeout and lost (KAFKA-14359, docs/evaluation-and-benchmarks.md).
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1));
        java.util.concurrent.atomic.AtomicReference<Exception> failed = new java.util.concurrent.atomic.AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            long start = System.nanoTime();
            for (int i = from; i < to; i++) {
                if (rate > 0) {
                    long wait = start + (long) ((i - from) / rate * 1e9) - System.nanoTime();
                    if (wait > 1_000_000) {
                        sleep(wait / 1_000_000);
                    }
                    sentAt.put(i, System.currentTimeMillis());
                }
                String task = taskCount == 1 ? TASK : "t" + (i % taskCount);
                byte[] value = ExampleParser.toJson(new Example("e" + i, task, new Example.Vector(vector(i)), label(i), -1));
                producer.send(new ProducerRecord<>(topics.examples().name(), task.getBytes(StandardCharsets.UTF_8), value),
                        (m, e) -> {
                            if (e != null) {
                                failed.compareAndSet(null, e);
                            }
                        });
            }
            producer.flush();
        }
        if (failed.get() != null) {
            // A lost example would make every rate below count examples that were never there.
            throw new IllegalStateException("producing the benchmark's examples failed", failed.get());
        }
    }

    private void ensureExtractorTopics(Map<String, String> p) {
        Extractor.ensureTopics(new ExtractorConfig(p));
    }

    /** Kafka Streams' commits of the stream threads: how many, their mean time, and their share of the threads' time. */
    private static String commits(SimpleMeterRegistry meters, double seconds, int threads) {
        double total = meters.find("kafka.stream.thread.commit.total").functionCounters().stream()
                .mapToDouble(io.micrometer.core.instrument.FunctionCounter::count).sum();
        double avgMs = meters.find("kafka.stream.thread.commit.latency.avg").gauges().stream()
                .mapToDouble(io.micrometer.core.instrument.Gauge::value).filter(v -> !Double.isNaN(v)).average()
                .orElse(Double.NaN);
        return String.format(java.util.Locale.ROOT, "%.0f commits, mean %.0f ms, %.0f %% of the threads' time", total,
                avgMs, 100 * total * avgMs / 1e3 / (threads * seconds));
    }

    /** Bytes of trainer state written, {@code form} whole or delta. */
    private static double stateWritten(SimpleMeterRegistry meters, String form) {
        var c = meters.find("headwater.trainer.state.written").tag("form", form).counter();
        return c == null ? 0 : c.count();
    }

    /** A drain: its rate, in input records per second, from the group's first commit to its last. */
    private record Drain(double rate, double seconds) {
    }

    /**
     * Waits until the group has committed the end of {@code topic} (written completely before), and
     * measures from its first commit: records (markers left out) over that time.
     */
    private Drain drain(String group, String topic, long records, Duration timeout) throws Exception {
        long end = endOffsets(topic);
        long deadline = System.nanoTime() + timeout.toNanos();
        long firstAt = -1;
        long firstCommitted = 0;
        while (System.nanoTime() < deadline) {
            long committed = committed(group);
            long now = System.nanoTime();
            if (committed > 0 && firstAt < 0) {
                firstAt = now;
                firstCommitted = committed;
            }
            if (committed >= end) {
                double seconds = (now - firstAt) / 1e9;
                double fraction = (end - firstCommitted) / (double) end;
                return new Drain(seconds == 0 ? Double.NaN : records * fraction / seconds, seconds);
            }
            sleep(20);
        }
        throw new IllegalStateException(group + " did not drain " + topic + " within " + timeout + ": committed "
                + committed(group) + " of " + end);
    }

    private long endOffsets(String topic) throws Exception {
        var partitions = admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic).partitions();
        Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
        partitions.forEach(pi -> specs.put(new TopicPartition(topic, pi.partition()), OffsetSpec.latest()));
        return admin.listOffsets(specs).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }

    private long committed(String group) throws Exception {
        return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS)
                .values().stream().filter(o -> o != null).mapToLong(OffsetAndMetadata::offset).sum();
    }

    /** Bytes on the broker's disk of every topic whose name contains {@code part}. */
    private long topicBytes(String part) throws Exception {
        Set<String> names = admin.listTopics().names().get();
        long bytes = 0;
        int node = admin.describeCluster().nodes().get().iterator().next().id();
        var dirs = admin.describeLogDirs(List.of(node)).allDescriptions().get().get(node);
        for (var dir : dirs.values()) {
            for (var e : dir.replicaInfos().entrySet()) {
                if (names.contains(e.getKey().topic()) && e.getKey().topic().contains(part)) {
                    bytes += e.getValue().size();
                }
            }
        }
        return bytes;
    }

    private Extractor startExtractor(Map<String, String> p, Backbone backbone) {
        return startExtractor(p, backbone, new SimpleMeterRegistry());
    }

    private Extractor startExtractor(Map<String, String> p, Backbone backbone, SimpleMeterRegistry meters) {
        Extractor extractor = new Extractor(new ExtractorConfig(p), backbone, meters);
        new Thread(extractor, "bench-extractor").start();
        return extractor;
    }

    /**
     * A trainer of its own drains the same features first, unmeasured: as the head alone's first
     * round does, it leaves the JIT warm (compiling the trainer's code took a core during the
     * drains otherwise).
     */
    private void warmUp(Map<String, String> p, String appId, HeadType type, Topics topics) throws Exception {
        try (StreamsService warm = Trainer.start(trainerConfig(p, appId, type), new SimpleMeterRegistry())) {
            drain(appId, topics.features().name(), examples, Duration.ofMinutes(20));
        }
    }

    private static TrainerConfig trainerConfig(Map<String, String> p, String appId, HeadType type) {
        Map<String, String> t = new HashMap<>(p);
        t.put(TrainerConfig.APPLICATION_ID, appId);
        t.put(TrainerConfig.HEAD_TYPE, type.id());
        return new TrainerConfig(t);
    }

    private void oneTask() throws Exception {
        Map<String, String> p = props("one.", 1);
        ensureExtractorTopics(p);
        produce(p, 1, 0, examples, 0, Map.of());
        Topics topics = Topics.withPrefix("one.");
        SimpleMeterRegistry extractorMeters = new SimpleMeterRegistry();
        Map<String, Long> cpu0 = threadCpu();
        try (Backbone backbone = Backbone.load(new ExtractorConfig(p).backboneSpec());
             Extractor ignored = startExtractor(p, backbone, extractorMeters)) {
            Drain d = drain(new ExtractorConfig(p).groupId(), topics.examples().name(), examples, Duration.ofMinutes(10));
            put("one task: extractor drain examples/s", "%.0f (%d examples in %.1f s)", d.rate(), examples, d.seconds());
            var commits = extractorMeters.find("headwater.extractor.commit.latency").timer();
            var batches = extractorMeters.find("headwater.extractor.batch.size").summary();
            put("one task: extractor transactions", "%d, mean %.0f examples, mean commit %.1f ms, CPU %.0f us per example",
                    commits.count(), batches.mean(), commits.mean(TimeUnit.MILLISECONDS),
                    (threadCpu().getOrDefault("extractor", 0L) - cpu0.getOrDefault("extractor", 0L)) / 1e3 / examples);
        }
        for (HeadType type : heads) {
            warmUp(p, "bench-trainer-one-warm-" + type.id(), type, topics);
            String appId = "bench-trainer-one-" + type.id();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            long changelogBefore = topicBytes(appId);
            Map<String, Long> trainerCpu0 = threadCpu();
            try (StreamsService trainer = Trainer.start(trainerConfig(p, appId, type), meters)) {
                Drain d = drain(appId, topics.features().name(), examples, Duration.ofMinutes(20));
                double cpuRate = examples / ((threadCpu().getOrDefault("trainer stream threads", 0L)
                        - trainerCpu0.getOrDefault("trainer stream threads", 0L)) / 1e9);
                put("one task: trainer " + type.id() + " drain examples/s", "%.0f (%.1f s); / head alone %s", d.rate(),
                        d.seconds(), ratio(d.rate(), "head alone " + type.id() + " test-then-train examples/s"));
                put("one task: trainer " + type.id() + " examples per CPU second of its stream thread",
                        "%.0f; / head alone %s", cpuRate, ratio(cpuRate, "head alone " + type.id()
                                + " test-then-train examples per CPU second"));
                double learnUs = headSeconds(meters, type, "test_then_train") / examples * 1e6;
                double exportUs = headSeconds(meters, type, "export") / examples * 1e6;
                String alone = results.get("head alone " + type.id() + " test-then-train examples/s");
                put("one task: trainer " + type.id() + " us per example in the head (headwater.trainer.head.seconds)",
                        "test-then-train %.1f (head alone %s), candidate exports %.1f, the rest of the drain %.1f",
                        learnUs, alone == null ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f",
                                1e6 / Double.parseDouble(alone.split(" ")[0])), exportUs,
                        1e6 / d.rate() - learnUs - exportUs);
                double written = stateWritten(meters, "whole") + stateWritten(meters, "delta");
                sleep(1_500);
                long changelog = topicBytes(appId) - changelogBefore;
                put("one task: trainer " + type.id() + " state bytes written per example", "%.0f (%.0f of it deltas; "
                        + "changelog topics grew %.0f bytes per example, seen-ids included)", written / examples,
                        stateWritten(meters, "delta") / examples, changelog / (double) examples);
            }
        }
        String registryGroup = new RegistryConfig(p).applicationId();
        long candidates = endOffsets(topics.modelCandidates().name());
        try (Registry ignored = Registry.start(new RegistryConfig(p), new SimpleMeterRegistry())) {
            Drain d = drain(registryGroup, topics.modelCandidates().name(), candidates, Duration.ofMinutes(5));
            put("one task: registry drain candidates/s", "%.0f (%d candidate records, markers included, in %.1f s)",
                    d.rate(), candidates, d.seconds());
        }
    }

    private static String format(double d) {
        return String.format(java.util.Locale.ROOT, "%.2f", d);
    }

    private static double headSeconds(SimpleMeterRegistry meters, HeadType type, String phase) {
        var c = meters.find("headwater.trainer.head.seconds").tags("head", type.id(), "phase", phase).counter();
        return c == null ? 0 : c.count();
    }

    private String ratio(double rate, String baselineKey) {
        String base = results.get(baselineKey);
        return base == null ? "n/a" : format(rate / Double.parseDouble(base.split(" ")[0]));
    }

    /** All three stages at once on a backlog of one task: examples through the whole loop per second. */
    private void endToEnd() throws Exception {
        Map<String, String> p = props("e2e.", 1);
        p.put(TrainerConfig.HEAD_TYPE, HeadType.LDA.id());
        ensureExtractorTopics(p);
        produce(p, 1, 0, examples, 0, Map.of());
        Topics topics = Topics.withPrefix("e2e.");
        Map<String, Long> cpu0 = threadCpu();
        long t0 = System.nanoTime();
        try (Backbone backbone = Backbone.load(new ExtractorConfig(p).backboneSpec());
             Extractor ignored = startExtractor(p, backbone);
             StreamsService trainer = Trainer.start(new TrainerConfig(p), new SimpleMeterRegistry());
             Registry registry = Registry.start(new RegistryConfig(p), new SimpleMeterRegistry())) {
            drain(new ExtractorConfig(p).groupId(), topics.examples().name(), examples, Duration.ofMinutes(10));
            drain(new TrainerConfig(p).applicationId(), topics.features().name(), examples, Duration.ofMinutes(20));
            drain(new RegistryConfig(p).applicationId(), topics.modelCandidates().name(), 1, Duration.ofMinutes(5));
            double seconds = (System.nanoTime() - t0) / 1e9;
            put("one task, lda: end to end examples/s", "%.0f (%d examples through extractor, trainer and registry in "
                    + "%.1f s, start-up included)", examples / seconds, examples, seconds);
            put("one task, lda: end to end CPU seconds by thread", "%s", cpuSince(cpu0));
            Map<String, Long> idle0 = threadCpu();
            sleep(5_000);
            put("idle loop, 5 s: CPU seconds by thread", "%s", cpuSince(idle0));
        }
    }

    private void manyTasks() throws Exception {
        Map<String, String> p = props("many.", 4);
        ensureExtractorTopics(p);
        produce(p, tasks, 0, examples, 0, Map.of());
        Topics topics = Topics.withPrefix("many.");
        try (Backbone backbone = Backbone.load(new ExtractorConfig(p).backboneSpec());
             Extractor ignored = startExtractor(p, backbone)) {
            Drain d = drain(new ExtractorConfig(p).groupId(), topics.examples().name(), examples, Duration.ofMinutes(10));
            put(tasks + " tasks, 4 partitions: extractor drain examples/s", "%.0f (%.1f s)", d.rate(), d.seconds());
        }
        manyHeadsAlone();
        p.put("num.stream.threads", "2");
        warmUp(p, "bench-trainer-many-warm", HeadType.LDA, topics);
        String appId = "bench-trainer-many";
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Map<String, Long> cpu0 = threadCpu();
        try (StreamsService trainer = Trainer.start(trainerConfig(p, appId, HeadType.LDA), meters)) {
            Drain d = drain(appId, topics.features().name(), examples, Duration.ofMinutes(20));
            put(tasks + " tasks, 4 partitions, 2 stream threads: CPU seconds by thread", "%s", cpuSince(cpu0));
            put(tasks + " tasks, 4 partitions, 2 stream threads: trainer commits", "%s", commits(meters, d.seconds(), 2));
            double deltas = stateWritten(meters, "delta");
            double written = stateWritten(meters, "whole") + deltas;
            put(tasks + " tasks, 4 partitions, 2 stream threads: trainer lda drain examples/s",
                    "%.0f (%.1f s); / head alone on as many tasks (one thread) %s; state bytes written per example %.0f "
                            + "(%.0f of it deltas)",
                    d.rate(), d.seconds(), ratio(d.rate(), "head alone lda, " + tasks
                            + " tasks interleaved, test-then-train examples/s"), written / examples, deltas / examples);
        }
    }

    /**
     * Examples streaming at half the end-to-end rate into the running loop; for each, the time from
     * its send to the first version on {@code model-updates} whose head had learned it.
     */
    private void latency(double seconds) throws Exception {
        String e2e = results.get("one task, lda: end to end examples/s");
        double rate = Double.parseDouble(e2e.split(" ")[0]) / 2;
        int n = (int) (rate * seconds);
        Map<String, String> p = props("latency.", 1);
        p.put(TrainerConfig.HEAD_TYPE, HeadType.LDA.id());
        ensureExtractorTopics(p);
        Topics topics = Topics.withPrefix("latency.");
        Map<Integer, Long> sentAt = new ConcurrentHashMap<>();
        List<long[]> versions = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Backbone backbone = Backbone.load(new ExtractorConfig(p).backboneSpec());
             Extractor ignored = startExtractor(p, backbone);
             StreamsService trainer = Trainer.start(new TrainerConfig(p), new SimpleMeterRegistry());
             Registry registry = Registry.start(new RegistryConfig(p), new SimpleMeterRegistry());
             UpdateWatcher watcher = new UpdateWatcher(topics, versions)) {
            sleep(3_000);
            produce(p, 1, 0, n, rate, sentAt);
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            LongSupplier learned = () -> versions.stream().mapToLong(v -> v[1]).max().orElse(0);
            while (learned.getAsLong() < n && System.nanoTime() < deadline) {
                sleep(50);
            }
            List<Long> lat = new ArrayList<>();
            List<long[]> vs = new ArrayList<>(versions);
            vs.sort(java.util.Comparator.comparingLong(v -> v[0]));
            for (int i = 0; i < n; i++) {
                int learnedCount = i + 1;
                long sent = sentAt.get(i);
                vs.stream().filter(v -> v[1] >= learnedCount).mapToLong(v -> v[0]).findFirst()
                        .ifPresent(at -> lat.add(at - sent));
            }
            long[] sorted = lat.stream().mapToLong(Long::longValue).sorted().toArray();
            put("latency, one task, lda, at half the end-to-end rate", "%.0f examples/s for %.0f s: example to "
                    + "published version p50 %d ms, p99 %d ms (%d of %d examples reached a version; %d versions; a "
                    + "candidate every %d examples)", rate, seconds, ExtractorBenchmark.percentile(sorted, 0.5),
                    ExtractorBenchmark.percentile(sorted, 0.99), sorted.length, n, vs.size(),
                    new TrainerConfig(p).candidateEveryExamples());
        }
    }

    /** Notes when each version arrives on {@code model-updates} and how many examples its head had learned. */
    private final class UpdateWatcher implements AutoCloseable {
        private final Thread thread;
        private volatile boolean running = true;

        UpdateWatcher(Topics topics, List<long[]> versions) {
            Map<String, Object> c = new HashMap<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "bench-updates-" + System.nanoTime(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                    "read_committed"));
            KafkaConsumer<String, ModelUpdate> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                    topics.modelUpdates().valueSerde().deserializer());
            consumer.subscribe(List.of(topics.modelUpdates().name()));
            thread = new Thread(() -> {
                try (consumer) {
                    while (running) {
                        consumer.poll(Duration.ofMillis(10)).forEach(r -> {
                            if (r.value() != null) {
                                versions.add(new long[] {System.currentTimeMillis(), r.value().metrics().examplesLearned()});
                            }
                        });
                    }
                }
            }, "bench-update-watcher");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(5_000);
        }
    }

    /** CPU nanoseconds per thread group. */
    private static Map<String, Long> threadCpu() {
        return ThreadCpu.byGroup(PipelineBenchmark::group);
    }

    private static String group(String thread) {
        if (thread.contains("StreamThread")) {
            return thread.contains("registry") ? "registry stream threads" : thread.contains("trainer")
                    ? "trainer stream threads" : "other stream threads";
        }
        if (thread.startsWith("bench-extractor") || thread.startsWith("headwater-extractor")) {
            return "extractor";
        }
        if (thread.startsWith("data-plane") || thread.startsWith("kafka-") && !thread.contains("producer")
                && !thread.contains("admin")) {
            return "broker";
        }
        return "other";
    }

    private static String cpuSince(Map<String, Long> before) {
        StringBuilder b = new StringBuilder();
        threadCpu().entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 50_000_000L)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> b.append(b.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
                        .append(format(e.getValue() / 1e9)));
        return b.toString();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
