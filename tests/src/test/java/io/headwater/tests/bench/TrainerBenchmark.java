package io.headwater.tests.bench;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.headwater.cli.Datasets;
import io.headwater.core.Head;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadOptions.SgdOptions;
import io.headwater.core.HeadType;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.Topics;
import io.headwater.trainer.Trainer;
import io.headwater.trainer.TrainerConfig;
import io.headwater.trainer.TrainerTopology;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Trainer benchmark (not a test). Real texts (the bundled fortunes, 43 classes, seeded order) are
 * embedded once by the real bundled backbone, which also gives the baseline rate; then, per head type
 * with its default options, on one thread:
 * <ol>
 *   <li>learn-only and test-then-train (predict, then learn) examples/s: on fresh heads over the
 *       whole set (every label new once), and steady, on a head that has seen the set once;
 *       the test-then-train accuracy of the first pass;</li>
 *   <li>the encoded state per task, and what encoding it costs (the trainer puts the state to its
 *       store after every example);</li>
 *   <li>the whole trainer topology on {@code TopologyTestDriver} (real RocksDB store), one task; the
 *       driver commits after every record, so every example is also a changelog write: the worst
 *       case of the real trainer, whose record cache absorbs updates between commits;</li>
 *   <li>memory of 1,000 tasks in one trainer: heap after GC, the state store on disk and the
 *       changelog bytes, against the bound of the 256-task working set (an sgd head's ND4J arrays
 *       are off-heap and not in the heap figure: see {@code SgdHead.memoryBytes()}).</li>
 * </ol>
 * {@code --sweep} adds test-then-train accuracy and speed of sgd settings around the defaults.
 *
 * <pre>{@code
 * tests/benchmark.sh trainer                    # defaults: 2,000 texts, 1,000 tasks
 * tests/benchmark.sh trainer --sweep --texts 3000
 * }</pre>
 */
public final class TrainerBenchmark {
    private static final String USAGE = "usage: TrainerBenchmark [--texts N] [--tasks N] [--per-task N] "
            + "[--seconds S] [--heads lda,sgd] [--no-rates] [--no-memory] [--sweep] [--out FILE]";
    private static final int WORKING_SET = 256;
    /** Keeps the predictions of the timed loops observable. */
    private static long sink;

    private TrainerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int texts = 2_000;
        int tasks = 1_000;
        int perTask = 5;
        double seconds = 3;
        boolean sweep = false;
        boolean memory = true;
        boolean rates = true;
        List<HeadType> heads = List.of(HeadType.values());
        Path out = Path.of("tests", "target", "trainer-benchmark.txt");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--texts" -> texts = Integer.parseInt(args[++i]);
                case "--tasks" -> tasks = Integer.parseInt(args[++i]);
                case "--per-task" -> perTask = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--sweep" -> sweep = true;
                case "--no-memory" -> memory = false;
                case "--no-rates" -> rates = false;
                case "--heads" -> heads = Stream.of(args[++i].split(",")).map(HeadType::of).toList();
                case "--out" -> out = Path.of(args[++i]);
                case "--help", "-h" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; " + USAGE);
            }
        }
        Map<String, String> results = new LinkedHashMap<>();
        try {
            run(texts, tasks, perTask, seconds, heads, rates, memory, sweep, results);
        } catch (io.headwater.core.HeadwaterException e) {
            System.err.println("benchmark: " + e.getMessage());
            System.exit(1);
            return;
        }
        StringBuilder text = new StringBuilder();
        results.forEach((k, v) -> text.append(k).append(": ").append(v).append('\n'));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, text.toString(), StandardCharsets.UTF_8);
        System.out.println("written to " + out.toAbsolutePath());
        System.exit(0);
    }

    private record Data(List<float[]> xs, List<String> ys, String backboneId, String backboneSha) {
    }

    private static void put(Map<String, String> results, String key, String value) {
        results.put(key, value);
        System.out.println(key + ": " + value);
    }

    static void run(int n, int tasks, int perTask, double seconds, List<HeadType> heads, boolean rates,
                    boolean memory, boolean sweep, Map<String, String> results) throws IOException {
        put(results, "cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        put(results, "sgd native threads", System.getProperty("headwater.sgd.threads", "1 (default)"));
        Data data = embed(n, results);
        double backboneRate = Double.parseDouble(results.get("baseline: backbone sentences/s"));

        for (HeadType type : rates ? heads : List.<HeadType>of()) {
            HeadOptions options = HeadOptions.defaults();
            String p = type.id() + ": ";
            put(results, p + "options", type == HeadType.SGD ? options.sgd().toString()
                    : "shrinkage " + options.ldaShrinkage() + ", solve every " + options.solveEvery());
            put(results, p + "fresh heads, learn-only examples/s (1 thread)",
                    String.format("%.0f", freshRate(type, options, data, seconds, false)));
            put(results, p + "fresh heads, test-then-train examples/s (1 thread)",
                    String.format("%.0f", freshRate(type, options, data, seconds, true)));
            double learn = steadyRate(type, options, data, seconds, false);
            double testThenTrain = steadyRate(type, options, data, seconds, true);
            put(results, p + "steady, learn-only examples/s (1 thread)", String.format("%.0f", learn));
            put(results, p + "steady, test-then-train examples/s (1 thread)", String.format("%.0f", testThenTrain));
            put(results, p + "steady test-then-train / backbone", String.format("%.1fx", testThenTrain / backboneRate));
            put(results, p + "test-then-train accuracy, first pass", String.format("%.3f",
                    prequential(type.create(data.xs.get(0).length, options), data)));
            Head head = type.create(data.xs.get(0).length, options);
            for (int i = 0; i < data.xs.size(); i++) {
                head.learn(data.xs.get(i), data.ys.get(i));
            }
            put(results, p + "encoded state per task after " + data.xs.size() + " examples, bytes",
                    Integer.toString(head.encodedSize()));
            put(results, p + "encode, microseconds per call", String.format("%.0f", encodeMicros(head)));
            put(results, p + "trainer topology examples/s (1 task, TopologyTestDriver, RocksDB)",
                    String.format("%.0f", topologyRate(type, data)));
        }
        for (HeadType type : memory ? heads : List.<HeadType>of()) {
            memory(type, data, tasks, perTask, true, results);
            memory(type, data, tasks, perTask, false, results);
        }
        if (sweep) {
            sweep(data, seconds, results);
        }
    }

    /** The fortunes, seeded order, embedded once; the backbone's rate is the baseline. */
    private static Data embed(int n, Map<String, String> results) {
        List<Datasets.Line> lines = Datasets.shuffled(Datasets.bundled("fortunes"), 5);
        lines = lines.subList(0, Math.min(n, lines.size()));
        List<String> texts = lines.stream().map(l -> l.json().orElseThrow().get("text").asText()).toList();
        List<String> labels = lines.stream().map(l -> l.json().orElseThrow().get("label").asText()).toList();
        try (Backbone backbone = Backbone.load(BackboneSpec.defaults())) {
            backbone.embed(texts.subList(0, Math.min(64, texts.size())));
            List<float[]> xs = new ArrayList<>(texts.size());
            long t0 = System.nanoTime();
            for (int i = 0; i < texts.size(); i += 32) {
                for (float[] x : backbone.embed(texts.subList(i, Math.min(texts.size(), i + 32)))) {
                    xs.add(x);
                }
            }
            double rate = texts.size() / ((System.nanoTime() - t0) / 1e9);
            put(results, "texts", texts.size() + " bundled fortunes, " + labels.stream().distinct().count()
                    + " labels, embedded by " + backbone.id() + " (" + backbone.dimension() + " dims)");
            put(results, "baseline: backbone sentences/s", String.format("%.1f", rate));
            return new Data(xs, labels, backbone.id(), backbone.sha256());
        }
    }

    /** Examples/s of fresh heads fed the whole set, one after another, after a warm-up head. */
    private static double freshRate(HeadType type, HeadOptions options, Data data, double seconds, boolean predict) {
        int d = data.xs.get(0).length;
        feed(type.create(d, options), data, predict);
        long examples = 0;
        long t0 = System.nanoTime();
        long deadline = t0 + (long) (seconds * 1e9);
        while (System.nanoTime() < deadline) {
            examples += feed(type.create(d, options), data, predict);
        }
        return examples / ((System.nanoTime() - t0) / 1e9);
    }

    /** Examples/s of one head fed the set over and over, after a first pass. */
    private static double steadyRate(HeadType type, HeadOptions options, Data data, double seconds,
                                     boolean predict) {
        Head head = type.create(data.xs.get(0).length, options);
        feed(head, data, predict);
        long examples = 0;
        long t0 = System.nanoTime();
        long deadline = t0 + (long) (seconds * 1e9);
        while (System.nanoTime() < deadline) {
            examples += feed(head, data, predict);
        }
        return examples / ((System.nanoTime() - t0) / 1e9);
    }

    private static int feed(Head head, Data data, boolean predict) {
        int hits = 0;
        for (int i = 0; i < data.xs.size(); i++) {
            if (predict && head.predict(data.xs.get(i)).filter(data.ys.get(i)::equals).isPresent()) {
                hits++;
            }
            head.learn(data.xs.get(i), data.ys.get(i));
        }
        sink += hits;
        return data.xs.size();
    }

    /** Share of first-pass predictions, each made before learning its example, that were right. */
    private static double prequential(Head head, Data data) {
        int hits = 0;
        for (int i = 0; i < data.xs.size(); i++) {
            if (head.predict(data.xs.get(i)).filter(data.ys.get(i)::equals).isPresent()) {
                hits++;
            }
            head.learn(data.xs.get(i), data.ys.get(i));
        }
        return hits / (double) data.xs.size();
    }

    private static double encodeMicros(Head head) {
        ByteBuffer buf = ByteBuffer.allocate(head.encodedSize());
        for (int i = 0; i < 20; i++) {
            head.encode(buf.clear());
        }
        int calls = 200;
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            head.encode(ByteBuffer.allocate(head.encodedSize()));
        }
        return (System.nanoTime() - t0) / 1e3 / calls;
    }

    private static TrainerConfig config(HeadType type, int candidateEvery, Path stateDir) {
        return new TrainerConfig(Map.of(
                TrainerConfig.HEAD_TYPE, type.id(),
                TrainerConfig.CANDIDATE_EVERY_EXAMPLES, Integer.toString(candidateEvery),
                TrainerConfig.STATE_DIR, stateDir.toString()));
    }

    private static FeatureRecord feature(Data data, int i, long offset) {
        return new FeatureRecord("ex-" + offset, data.ys.get(i), data.backboneId, data.backboneSha, -1,
                "bench.examples", 0, offset, data.xs.get(i));
    }

    /** One task through the whole topology: every example is predicted, learned and put to the store. */
    private static double topologyRate(HeadType type, Data data) throws IOException {
        Path dir = Files.createTempDirectory("trainer-bench");
        try (TopologyTestDriver driver = driver(config(type, 500, dir))) {
            TestInputTopic<String, FeatureRecord> in = input(driver);
            Changelog changelog = new Changelog(driver);
            int warm = Math.min(200, data.xs.size());
            for (int i = 0; i < warm; i++) {
                in.pipeInput("warm-up", feature(data, i, i));
                changelog.drain();
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < data.xs.size(); i++) {
                in.pipeInput("task", feature(data, i, i));
                changelog.drain();
            }
            return data.xs.size() / ((System.nanoTime() - t0) / 1e9);
        } finally {
            delete(dir);
        }
    }

    /**
     * The state store's changelog as the driver captured it, read as it comes (the driver keeps
     * every produced record until read: at a megabyte per state that fills the heap).
     */
    private static final class Changelog {
        final TestOutputTopic<byte[], byte[]> topic;
        final Map<String, Integer> latest = new HashMap<>();
        long bytes;
        long records;

        Changelog(TopologyTestDriver driver) {
            topic = driver.createOutputTopic("headwater-trainer-" + TrainerTopology.STATE_STORE + "-changelog",
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        void drain() {
            while (!topic.isEmpty()) {
                TestRecord<byte[], byte[]> r = topic.readRecord();
                int size = r.value() == null ? 0 : r.value().length;
                bytes += size;
                records++;
                latest.put(new String(r.key(), StandardCharsets.UTF_8), size);
            }
        }
    }

    private static TopologyTestDriver driver(TrainerConfig config) {
        Properties props = new Properties();
        props.putAll(Trainer.streamsOverrides(config));
        return new TopologyTestDriver(TrainerTopology.build(config, new SimpleMeterRegistry()), props);
    }

    private static TestInputTopic<String, FeatureRecord> input(TopologyTestDriver driver) {
        Topics topics = Topics.withPrefix("headwater.");
        return driver.createInputTopic(topics.features().name(), Serdes.String().serializer(),
                topics.features().valueSerde().serializer());
    }

    /**
     * {@code tasks} tasks of {@code perTask} examples each through one trainer. With
     * {@code proposeEach} every task proposes a candidate at its last example, so its state may
     * leave the working set; without it (the default candidate interval of 500 examples) no task has
     * proposed yet, and the processor keeps every state in memory.
     */
    private static void memory(HeadType type, Data data, int tasks, int perTask, boolean proposeEach,
                               Map<String, String> results) throws IOException {
        String p = type.id() + ", " + tasks + " tasks x " + perTask + " examples, "
                + (proposeEach ? "each proposed (working set can evict): " : "none proposed yet: ");
        Path dir = Files.createTempDirectory("trainer-bench");
        long heapBefore = heapAfterGc();
        try (TopologyTestDriver driver = driver(config(type, proposeEach ? perTask : 500, dir))) {
            TestInputTopic<String, FeatureRecord> in = input(driver);
            TestOutputTopic<String, byte[]> candidates = driver.createOutputTopic(
                    Topics.withPrefix("headwater.").modelCandidates().name(), Serdes.String().deserializer(),
                    new ByteArrayDeserializer());
            Changelog changelog = new Changelog(driver);
            long offset = 0;
            for (int t = 0; t < tasks; t++) {
                for (int k = 0; k < perTask; k++) {
                    int i = (int) (offset % data.xs.size());
                    in.pipeInput("task-" + t, feature(data, i, offset++));
                    changelog.drain();
                }
                candidates.readRecordsToList();
            }
            long heap = heapAfterGc() - heapBefore;
            long changelogBytes = changelog.bytes;
            long changelogRecords = changelog.records;
            double perTaskState = changelog.latest.values().stream().mapToInt(Integer::intValue).average().orElse(0);
            put(results, p + "heap after GC, MB", String.format("%.1f", heap / 1e6));
            put(results, p + "state per task (latest changelog value), bytes", String.format("%.0f", perTaskState));
            put(results, p + "bound 256 x state, MB", String.format("%.1f", WORKING_SET * perTaskState / 1e6));
            put(results, p + "all tasks x state, MB", String.format("%.1f", tasks * perTaskState / 1e6));
            put(results, p + "changelog records / MB", changelogRecords + " / "
                    + String.format("%.1f", changelogBytes / 1e6));
            put(results, p + "state store on disk, MB", String.format("%.1f", size(dir) / 1e6));
        } finally {
            delete(dir);
        }
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** sgd settings around the defaults: one changed at a time. */
    private static void sweep(Data data, double seconds, Map<String, String> results) {
        SgdOptions base = SgdOptions.defaults();
        Map<String, SgdOptions> variants = new LinkedHashMap<>();
        variants.put("defaults", base);
        variants.put("hidden []", base.withHidden(List.of()));
        variants.put("hidden [64]", base.withHidden(List.of(64)));
        variants.put("hidden [256]", base.withHidden(List.of(256)));
        variants.put("hidden [256, 128]", base.withHidden(List.of(256, 128)));
        variants.put("learning rate 0.001", base.withLearningRate(0.001));
        variants.put("learning rate 0.01", base.withLearningRate(0.01));
        variants.put("learning rate 0.03", base.withLearningRate(0.03));
        variants.put("batch 16", base.withBatchSize(16));
        variants.put("batch 64", base.withBatchSize(64));
        variants.put("replay ratio 0 (no replay)", base.withReplay(0, 0));
        variants.put("replay ratio 0.25", base.withReplay(base.replayCapacity(), 0.25));
        variants.put("replay ratio 0.75", base.withReplay(base.replayCapacity(), 0.75));
        variants.put("replay capacity 2000", base.withReplay(2_000, base.replayRatio()));
        variants.put("learning rate 0.1", base.withLearningRate(0.1));
        variants.put("hidden [], learning rate 0.03", base.withHidden(List.of()).withLearningRate(0.03));
        variants.put("hidden [], learning rate 0.1", base.withHidden(List.of()).withLearningRate(0.1));
        variants.put("learning rate 0.03, replay ratio 0.75", base.withLearningRate(0.03)
                .withReplay(base.replayCapacity(), 0.75));
        int d = data.xs.get(0).length;
        HeadOptions lda = HeadOptions.defaults();
        put(results, "sweep: lda defaults, accuracy first pass", String.format("%.3f",
                prequential(HeadType.LDA.create(d, lda), data)));
        for (Map.Entry<String, SgdOptions> v : variants.entrySet()) {
            HeadOptions options = HeadOptions.defaults().withSgd(v.getValue());
            double accuracy = prequential(HeadType.SGD.create(d, options), data);
            double rate = steadyRate(HeadType.SGD, options, data, seconds / 3, true);
            put(results, "sweep: sgd " + v.getKey() + ", accuracy first pass / test-then-train examples/s",
                    String.format("%.3f / %.0f", accuracy, rate));
        }
    }
}
