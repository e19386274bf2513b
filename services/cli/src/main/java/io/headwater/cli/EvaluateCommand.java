package io.headwater.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.headwater.backbone.ImageBackbone;
import io.headwater.backbone.ImageBackboneSpec;
import io.headwater.backbone.Pooling;
import io.headwater.core.ConfigException;
import io.headwater.core.SparseVector;
import io.headwater.cli.report.Charts;
import io.headwater.cli.report.HtmlReport;
import io.headwater.cli.report.Table;
import io.headwater.core.HashedBagOfWords;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadType;
import io.headwater.core.evaluation.Detection;
import io.headwater.core.evaluation.Evaluation;
import io.headwater.core.evaluation.Example;
import io.headwater.core.evaluation.HeadVariant;
import io.headwater.core.evaluation.Point;
import io.headwater.core.evaluation.StreamRun;
import io.headwater.trainer.TrainerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code headwater evaluate}: streams a labeled data set through the real bundled backbone and
 * every head type, and writes CSV files, PNG charts, {@code summary.md} and {@code index.html}.
 *
 * <pre>{@code
 * headwater evaluate fortunes-32
 * headwater evaluate spam --max-examples 2000 --out /tmp/spam-eval
 * headwater evaluate my-data.jsonl.gz --budgets 20,50,100
 * }</pre>
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure every head type on a labeled data set: streaming, offline, transfer, forgetting, drift.",
            "Evaluate every head type on a labeled data set, embedded once with the bundled backbone:",
            "  - test-then-train accuracy over one pass in a seeded shuffled order;",
            "  - each streaming head against its offline upper bound on a held-out split;",
            "  - the backbone against hashed bag-of-words (text) or raw pixels (images) with 50 to 1,000 labels;",
            "  - class-incremental (labels arrive in groups): accuracy on the first group;",
            "  - drift (labels rotated half-way): where the drift detector fired.",
            "Writes CSV files, PNG charts, summary.md and index.html to --out; prints the summary."})
final class EvaluateCommand implements Callable<Integer> {
    /** Bundled variants: a data set cut to its largest labels at load time. */
    static final Map<String, Integer> TOP_LABEL_VARIANTS = Map.of("fortunes-32", 32);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DATA",
            description = "A bundled task (spam, fine-foods, fortunes, fortunes-32: the 32 largest fortune categories; "
                    + "images: mnist-digits, fashion-heldout) or a JSON Lines file (.jsonl or .jsonl.gz) of "
                    + "{\"id\", \"text\", \"label\"} or {\"id\", \"image\" (base64 PNG or JPEG), \"label\"} objects.")
    String data;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: target/evaluate/<task>).")
    Path out;

    @Option(names = "--max-examples", paramLabel = "N",
            description = "Use at most N examples, drawn at random with the seed (default: all).")
    Integer maxExamples;

    @Option(names = "--top-labels", paramLabel = "K", description = "Keep only the examples of the K most frequent labels.")
    Integer topLabels;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of every shuffle and draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--test-fraction", paramLabel = "F", defaultValue = "0.2",
            description = "Share of the examples held out for scoring (default: ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(names = "--window", paramLabel = "N", defaultValue = "500",
            description = "Predictions the windowed test-then-train accuracy covers (default: ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--budgets", split = ",", paramLabel = "N", defaultValue = "50,100,500,1000",
            description = "Label budgets of the transfer comparison (default: ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(names = "--repeats", paramLabel = "R", defaultValue = "3",
            description = "Random draws per label budget, averaged (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--bow-bits", paramLabel = "B", defaultValue = "14",
            description = "The bag-of-words baseline hashes words and bigrams into 2^B buckets (default: ${DEFAULT-VALUE}).")
    int bowBits;

    @Option(names = "--offline-epochs", paramLabel = "E", defaultValue = "5",
            description = "Shuffled epochs of the offline upper bound for heads trained by gradient steps; "
                    + "lda is exact after one (default: ${DEFAULT-VALUE}).")
    int offlineEpochs;

    @Option(names = "--group-size", paramLabel = "G",
            description = "Labels per group in the class-incremental run (default: about a quarter of the labels, 2 to 8; "
                    + "the run is skipped for fewer than 4 labels).")
    Integer groupSize;

    @Option(names = "--drift-at", paramLabel = "F", defaultValue = "0.5",
            description = "Where in the drift run the labels change, as a share of the stream (default: ${DEFAULT-VALUE}).")
    double driftAt;

    @Option(names = "--drift-delta", paramLabel = "D", defaultValue = "0.002",
            description = "Confidence of the drift detector (default: ${DEFAULT-VALUE}).")
    double driftDelta;

    @Option(names = "--drift-max-delay", paramLabel = "N", defaultValue = "500",
            description = "A change counts as found when the detector reports it once, within N examples "
                    + "(default: ${DEFAULT-VALUE}).")
    int driftMaxDelay;

    @Option(names = "--backbone", paramLabel = "NAME", defaultValue = "all-minilm-l6-v2-q",
            description = "Bundled backbone (default: ${DEFAULT-VALUE}).")
    String backboneName;

    @Option(names = "--image-backbone", paramLabel = "NAME", defaultValue = "fashion-cnn",
            description = "Bundled image backbone, for image data (default: ${DEFAULT-VALUE}).")
    String imageBackboneName;

    @Option(names = "--image-model", paramLabel = "FILE",
            description = "An ONNX vision model to use instead of --image-backbone (its input and output are read "
                    + "from the graph and its headwater.image.* metadata).")
    Path imageModel;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Backbone threads, 0 = one per core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = {"-D", "--set"}, paramLabel = "KEY=VALUE",
            description = "Set a head option with the trainer's key, e.g. -D trainer.sgd.learning.rate=0.01 "
                    + "(see ./headwater config-docs); defaults are the trainer's.")
    Map<String, String> headSettings = new LinkedHashMap<>();

    @Option(names = "--cache-dir", paramLabel = "DIR", defaultValue = "target/evaluate/embeddings",
            description = "Directory of cached embeddings, so a rerun on the same data skips the backbone; "
                    + "empty to keep them in memory only (default: ${DEFAULT-VALUE}).")
    String cacheDir;

    private long t0;
    private HeadOptions headOptions;

    @Override
    public Integer call() {
        t0 = System.nanoTime();
        checkArguments();
        for (String key : headSettings.keySet()) {
            if (!key.startsWith("trainer.")) {
                throw usage("-D " + key + ": only trainer.* keys (head options) apply to evaluate");
            }
        }
        headOptions = new TrainerConfig(headSettings).headOptions();
        String task = taskName();
        Path dir = out != null ? out : Path.of("target", "evaluate", task);
        List<Labeled> labeled = load();
        boolean images = labeled.get(0).image();
        int embeddingDimension;
        int baselineDimension;
        String backboneDescription;
        List<Example> examples = new ArrayList<>(labeled.size());
        if (images) {
            ImageBackboneSpec.Builder imageSpec = ImageBackboneSpec.builder().name(imageBackboneName)
                    .intraOpThreads(threads);
            if (imageModel != null) {
                imageSpec.modelPath(imageModel);
            }
            try (ImageBackbone backbone = ImageBackbone.load(imageSpec.build())) {
                backboneDescription = backbone.id() + " (sha256 " + backbone.sha256().substring(0, 12) + "...)";
                say("Image backbone " + backboneDescription + "; embedding " + labeled.size() + " images of " + task
                        + "...");
                embedImages(backbone, labeled, examples);
                embeddingDimension = backbone.dimension();
                baselineDimension = backbone.input().size();
            }
        } else {
            float[][] vectors;
            try (Backbone backbone = Backbone.load(BackboneSpec.builder().name(backboneName).intraOpThreads(threads).build())) {
                backboneDescription = backbone.id() + " (sha256 " + backbone.sha256().substring(0, 12) + "...)";
                say("Backbone " + backboneDescription + "; embedding " + labeled.size() + " texts of " + task + "...");
                vectors = EmbeddingCache.embed(backbone, labeled.stream().map(Labeled::text).toList(),
                        cacheDir.isBlank() ? Optional.empty() : Optional.of(Path.of(cacheDir)), this::say);
                embeddingDimension = backbone.dimension();
            }
            HashedBagOfWords bow = new HashedBagOfWords(bowBits);
            for (int i = 0; i < labeled.size(); i++) {
                examples.add(new Example(vectors[i], bow.features(labeled.get(i).text()), labeled.get(i).label()));
            }
            baselineDimension = bow.dimension();
        }
        int nTest = (int) Math.round(examples.size() * testFraction);
        if (nTest < 1 || examples.size() - nTest < 2) {
            throw usage("need at least 2 training and 1 held-out example; " + examples.size()
                    + " examples with --test-fraction " + testFraction + " leave " + (examples.size() - nTest) + " and " + nTest);
        }
        List<Example> test = List.copyOf(examples.subList(0, nTest));
        List<Example> train = List.copyOf(examples.subList(nTest, examples.size()));
        Results results = new Results(task, dir, embeddingDimension, baselineDimension, train, test, backboneDescription,
                images);
        createDirectories(dir);
        runStreaming(results);
        runBudgets(results);
        runIncremental(results);
        runDrift(results);
        String summary = results.writeSummary(commandLine());
        System.out.println();
        System.out.print(summary);
        say("Wrote " + dir.toAbsolutePath().normalize().resolve("index.html") + " (and summary.md, CSV files, PNG charts)");
        return 0;
    }

    private void checkArguments() {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw usage("--test-fraction must be in (0, 1), found " + testFraction);
        }
        if (!(driftAt > 0 && driftAt < 1)) {
            throw usage("--drift-at must be in (0, 1), found " + driftAt);
        }
        if (!(driftDelta > 0 && driftDelta < 1)) {
            throw usage("--drift-delta must be in (0, 1), found " + driftDelta);
        }
        positive("--window", window);
        positive("--repeats", repeats);
        positive("--offline-epochs", offlineEpochs);
        positive("--drift-max-delay", driftMaxDelay);
        if (maxExamples != null) {
            positive("--max-examples", maxExamples);
        }
        if (topLabels != null) {
            positive("--top-labels", topLabels);
        }
        if (groupSize != null) {
            positive("--group-size", groupSize);
        }
        budgets.forEach(b -> positive("--budgets", b));
        if (bowBits < HashedBagOfWords.MIN_BITS || bowBits > HashedBagOfWords.MAX_BITS) {
            throw usage("--bow-bits must be in [" + HashedBagOfWords.MIN_BITS + ", " + HashedBagOfWords.MAX_BITS
                    + "], found " + bowBits);
        }
    }

    private void positive(String option, int value) {
        if (value < 1) {
            throw usage(option + " must be >= 1, found " + value);
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private String taskName() {
        if (Datasets.BUNDLED.containsKey(data) || Datasets.BUNDLED_IMAGES.containsKey(data)
                || TOP_LABEL_VARIANTS.containsKey(data)) {
            return data;
        }
        String name = Path.of(data).getFileName().toString();
        return name.replaceFirst("\\.gz$", "").replaceFirst("\\.jsonl$", "");
    }

    /** A text (or, when {@code image}, a base64 image) and its label, from one line of the data. */
    record Labeled(String text, String label, boolean image) {
    }

    /**
     * Embeds base64 images with the image backbone, and keeps their raw pixels (scaled to [0, 1],
     * resized and converted as for the backbone) as the no-backbone baseline's features.
     */
    private void embedImages(ImageBackbone backbone, List<Labeled> labeled, List<Example> examples) {
        int chunk = 1024;
        for (int start = 0; start < labeled.size(); start += chunk) {
            List<Labeled> part = labeled.subList(start, Math.min(start + chunk, labeled.size()));
            List<float[]> tensors = new ArrayList<>(part.size());
            List<float[]> pixels = new ArrayList<>(part.size());
            for (Labeled l : part) {
                byte[] bytes;
                try {
                    bytes = Base64.getDecoder().decode(l.text());
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("an \"image\" of the data is not valid base64: " + e.getMessage(), e);
                }
                tensors.add(backbone.preprocessor().tensor(bytes));
                pixels.add(backbone.preprocessor().pixels(bytes));
            }
            float[][] vectors = backbone.embed(tensors);
            for (int i = 0; i < part.size(); i++) {
                // L2-normalised like the bag-of-words baseline (and the embeddings): on raw [0, 1]
                // pixels the same logistic regression steps too far and ends 5 to 10 points lower.
                examples.add(new Example(vectors[i], SparseVector.dense(Pooling.l2Normalize(pixels.get(i))),
                        part.get(i).label()));
            }
        }
    }

    /** The examples with a text and a label, shuffled with the seed, filtered and cut as the options say. */
    private List<Labeled> load() {
        List<Datasets.Line> lines;
        Integer top = topLabels;
        if (Datasets.BUNDLED.containsKey(data) || Datasets.BUNDLED_IMAGES.containsKey(data)) {
            lines = Datasets.bundled(data);
        } else if (TOP_LABEL_VARIANTS.containsKey(data)) {
            lines = Datasets.bundled(data.substring(0, data.lastIndexOf('-')));
            top = top != null ? top : TOP_LABEL_VARIANTS.get(data);
        } else if (Files.isRegularFile(Path.of(data))) {
            lines = Datasets.file(Path.of(data));
        } else {
            throw usage("DATA '" + data + "' is neither a bundled task (" + String.join(", ", Datasets.BUNDLED.keySet())
                    + ", " + String.join(", ", Datasets.BUNDLED_IMAGES.keySet())
                    + ", " + String.join(", ", TOP_LABEL_VARIANTS.keySet()) + ") nor a file");
        }
        List<Labeled> all = new ArrayList<>();
        int skipped = 0;
        int firstLine = 0;
        for (Datasets.Line line : lines) {
            Optional<JsonNode> json = line.json();
            boolean image = json.map(j -> j.hasNonNull("image")).orElse(false);
            String text = json.map(j -> j.path(image ? "image" : "text").asText("")).orElse("");
            String label = json.map(j -> j.path("label").asText("")).orElse("");
            if (text.isBlank() || label.isBlank()) {
                skipped++;
            } else if (!all.isEmpty() && all.get(0).image() != image) {
                throw usage("DATA '" + data + "' line " + line.number() + " has " + (image ? "an image" : "a text")
                        + " but the first usable line (" + firstLine + ") has " + (image ? "a text" : "an image")
                        + "; one evaluation takes one input kind");
            } else {
                if (all.isEmpty()) {
                    firstLine = line.number();
                }
                all.add(new Labeled(text, label, image));
            }
        }
        if (skipped > 0) {
            say("Skipped " + skipped + " lines without a non-empty \"text\" (or \"image\") and \"label\"");
        }
        if (top != null) {
            Map<String, Long> counts = all.stream().collect(Collectors.groupingBy(Labeled::label, Collectors.counting()));
            Set<String> keep = counts.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .limit(top).map(Map.Entry::getKey).collect(Collectors.toSet());
            all = all.stream().filter(l -> keep.contains(l.label())).toList();
        }
        List<Labeled> shuffled = Datasets.shuffled(all, seed);
        if (maxExamples != null && maxExamples < shuffled.size()) {
            shuffled = shuffled.subList(0, maxExamples);
        }
        long labels = shuffled.stream().map(Labeled::label).distinct().count();
        if (labels < 2) {
            throw usage("DATA '" + data + "' has " + shuffled.size() + " usable examples with " + labels
                    + " label(s); an evaluation needs at least 2 labels");
        }
        return shuffled;
    }

    /** The head variants every run covers: each available head type with the trainer's options. */
    private List<HeadVariant> heads() {
        return HeadVariant.everyType(headOptions);
    }

    /** The class-incremental run's variants: every head, and sgd (when it replays) also without replay. */
    private List<HeadVariant> incrementalHeads() {
        List<HeadVariant> variants = new ArrayList<>();
        for (HeadVariant v : heads()) {
            variants.add(v);
            if (v.type() == HeadType.SGD && v.options().sgd().replayCapacity() > 0) {
                variants.add(new HeadVariant(v.name() + "-no-replay", v.type(),
                        v.options().withSgd(v.options().sgd().withReplay(0, 0))));
            }
        }
        return variants;
    }

    private int every(int n) {
        return Math.max(1, n / 200);
    }

    private void runStreaming(Results r) {
        Table curve = new Table("head", "examples", "windowed_accuracy");
        Table heldOut = new Table("head", "test_then_train_windowed", "test_then_train_cumulative",
                "held_out_streaming", "held_out_offline", "gap_points", "offline_epochs", "within_2_points");
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (HeadVariant v : heads()) {
            say("Test-then-train: " + v.name() + " over " + r.train.size() + " examples...");
            StreamRun run = Evaluation.prequential(v, r.dimension, r.train,
                    Evaluation.Settings.of(Math.min(window, r.train.size()), every(r.train.size())));
            run.windowed().forEach(p -> curve.row(v.name(), p.examples(), p.value()));
            series.put(v.name(), run.windowed());
            double streaming = Evaluation.accuracy(run.head(), r.test);
            int epochs = exactInOnePass(v) ? 1 : offlineEpochs;
            say("Offline upper bound: " + v.name() + ", " + epochs + " epoch(s)...");
            double offline = Evaluation.accuracy(Evaluation.offline(v, r.dimension, r.train, epochs, seed), r.test);
            double gap = 100 * (offline - streaming);
            heldOut.row(v.name(), run.finalWindowed(), run.cumulative(), streaming, offline, gap, epochs, gap <= 2 ? "yes" : "no");
        }
        curve.writeCsv(r.dir.resolve("prequential.csv"));
        heldOut.writeCsv(r.dir.resolve("heldout.csv"));
        Charts.line(new Charts.Spec(r.task + ": test-then-train accuracy (last " + Math.min(window, r.train.size())
                + ")", "examples seen", "windowed accuracy"), series, List.of(), r.dir.resolve("prequential.png"));
        r.heldOut = heldOut;
    }

    /** The closed-form head is exact after one pass: more epochs would count every example again. */
    private static boolean exactInOnePass(HeadVariant v) {
        return v.type() == HeadType.LDA;
    }

    private void runBudgets(Results r) {
        int[] b = budgets.stream().filter(n -> n <= r.train.size()).mapToInt(Integer::intValue).toArray();
        if (b.length == 0) {
            r.transfer = Optional.empty();
            return;
        }
        say("Transfer: label budgets " + budgets + ", " + repeats + " draws each...");
        List<Evaluation.BudgetResult> results = Evaluation.labelBudgets(r.train, r.test, b, repeats, heads(), r.dimension,
                r.bowDimension, seed, r.baseline());
        Table csv = new Table("labels", "method", "mean_accuracy", "accuracies");
        results.forEach(x -> csv.row(x.labels(), x.method(), x.mean(), x.accuracies().stream()
                .map(a -> String.format(Locale.ROOT, "%.4f", a)).collect(Collectors.joining(" "))));
        csv.writeCsv(r.dir.resolve("transfer.csv"));
        List<String> methods = results.stream().map(Evaluation.BudgetResult::method).distinct().toList();
        List<String> header = new ArrayList<>(List.of("labels"));
        header.addAll(methods);
        header.add("gain_points");
        Table table = new Table(header.toArray(String[]::new));
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (int n : b) {
            Map<String, Double> byMethod = new HashMap<>();
            results.stream().filter(x -> x.labels() == n).forEach(x -> byMethod.put(x.method(), x.mean()));
            List<Object> row = new ArrayList<>(List.of(n));
            methods.forEach(m -> row.add(byMethod.get(m)));
            row.add(100 * (byMethod.get(Evaluation.BACKBONE_LOGREG) - byMethod.get(r.baseline())));
            table.row(row.toArray());
            methods.forEach(m -> series.computeIfAbsent(m, k -> new ArrayList<>()).add(new Point(n, byMethod.get(m))));
        }
        Charts.line(new Charts.Spec(r.task + ": held-out accuracy by number of labels", "labeled examples",
                "held-out accuracy", true, true), series, List.of(), r.dir.resolve("transfer.png"));
        r.transfer = Optional.of(table);
    }

    private void runIncremental(Results r) {
        long labels = r.train.stream().map(Example::label).distinct().count();
        if (labels < 4) {
            r.incremental = Optional.empty();
            say("Class-incremental run skipped: " + labels + " labels (needs 4 or more)");
            return;
        }
        int g = groupSize != null ? groupSize : (int) Math.max(2, Math.min(8, labels / 4));
        List<List<String>> groups = Evaluation.labelGroups(r.train, g, seed);
        List<Example> stream = Evaluation.classIncremental(r.train, groups);
        List<Example> probe = Evaluation.withLabels(r.test, groups.get(0));
        say("Class-incremental: " + groups.size() + " groups of up to " + g + " labels, " + stream.size()
                + " examples; probing the first group " + groups.get(0) + " (" + probe.size() + " held-out examples)...");
        List<Double> boundaries = new ArrayList<>();
        long seen = 0;
        for (List<String> group : groups.subList(0, groups.size() - 1)) {
            seen += Evaluation.withLabels(r.train, group).size();
            boundaries.add((double) seen);
        }
        long firstPhase = boundaries.isEmpty() ? stream.size() : boundaries.get(0).longValue();
        Table curve = new Table("head", "examples", "first_group_accuracy");
        Table table = new Table("head", "first_group_after_phase_1", "first_group_at_end", "first_group_min_later",
                "all_labels_at_end");
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (HeadVariant v : incrementalHeads()) {
            StreamRun run = Evaluation.prequential(v, r.dimension, stream,
                    Evaluation.Settings.of(Math.min(window, stream.size()), every(stream.size())).withProbe(probe));
            run.probe().forEach(p -> curve.row(v.name(), p.examples(), p.value()));
            series.put(v.name(), run.probe());
            double afterFirst = run.probe().stream().filter(p -> p.examples() <= firstPhase)
                    .reduce((a, b) -> b).map(Point::value).orElse(0.0);
            double minLater = run.probe().stream().filter(p -> p.examples() > firstPhase).mapToDouble(Point::value)
                    .min().orElse(afterFirst);
            table.row(v.name(), afterFirst, run.probe().get(run.probe().size() - 1).value(), minLater,
                    Evaluation.accuracy(run.head(), r.test));
        }
        curve.writeCsv(r.dir.resolve("incremental.csv"));
        Charts.line(new Charts.Spec(r.task + ": accuracy on the first " + groups.get(0).size()
                + " labels as more labels arrive", "examples seen", "held-out accuracy, first group"), series, boundaries,
                r.dir.resolve("incremental.png"));
        r.incremental = Optional.of(table);
        r.incrementalNote = groups.size() + " groups of up to " + g + " labels (first group: "
                + String.join(", ", groups.get(0)) + "); dashed lines mark where a new group starts.";
    }

    private void runDrift(Results r) {
        int changeAt = (int) Math.round(r.train.size() * driftAt);
        List<Example> stream = Evaluation.labelDrift(r.train, changeAt);
        say("Drift: labels rotated after example " + changeAt + " of " + stream.size() + "...");
        Table curve = new Table("head", "examples", "windowed_accuracy");
        Table events = new Table("head", "example", "error_before", "error_after", "kind");
        Table table = new Table("head", "change_at", "detected_at", "delay", "detections_after_change",
                "false_alarms_before", "windowed_before_change", "windowed_at_end", "found_once_in_time");
        Map<String, List<Point>> series = new LinkedHashMap<>();
        int w = Math.min(window, Math.max(50, changeAt / 4));
        for (HeadVariant v : heads()) {
            StreamRun run = Evaluation.prequential(v, r.dimension, stream,
                    Evaluation.Settings.of(w, every(stream.size())).withDrift(driftDelta, true));
            run.windowed().forEach(p -> curve.row(v.name(), p.examples(), p.value()));
            series.put(v.name(), run.windowed());
            List<Detection> rises = run.detections().stream().filter(Detection::errorRose).toList();
            run.detections().forEach(d -> events.row(v.name(), d.example(), d.errorBefore(), d.errorAfter(),
                    d.errorRose() ? "error rose" : "error fell"));
            List<Detection> after = rises.stream().filter(d -> d.example() > changeAt).toList();
            long before = rises.stream().filter(d -> d.example() <= changeAt).count();
            double windowedBefore = run.windowed().stream().filter(p -> p.examples() <= changeAt)
                    .reduce((a, b) -> b).map(Point::value).orElse(0.0);
            table.row(v.name(), changeAt, after.isEmpty() ? "never" : after.get(0).example(),
                    after.isEmpty() ? "" : after.get(0).example() - changeAt, after.size(), before, windowedBefore,
                    run.finalWindowed(), after.size() == 1 && before == 0
                            && after.get(0).example() - changeAt <= driftMaxDelay ? "yes" : "no");
        }
        curve.writeCsv(r.dir.resolve("drift.csv"));
        events.writeCsv(r.dir.resolve("drift-detections.csv"));
        Charts.line(new Charts.Spec(r.task + ": labels rotated at example " + changeAt + " (windowed accuracy, last " + w
                + ")", "examples seen", "windowed accuracy"), series, List.of((double) changeAt), r.dir.resolve("drift.png"));
        r.drift = table;
        r.driftWindow = w;
        r.driftMaxDelay = driftMaxDelay;
    }

    private String commandLine() {
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        return "./headwater " + String.join(" ", args);
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    private void say(String s) {
        System.out.printf("[%6.1fs] %s%n", (System.nanoTime() - t0) / 1e9, s);
        System.out.flush();
    }

    /** What the runs found, and the summary written from it. */
    private static final class Results {
        final String task;
        final Path dir;
        final int dimension;
        final int bowDimension;
        final List<Example> train;
        final List<Example> test;
        final String backbone;
        Table heldOut;
        Optional<Table> transfer = Optional.empty();
        Optional<Table> incremental = Optional.empty();
        String incrementalNote = "";
        Table drift;
        int driftWindow;
        int driftMaxDelay;

        final boolean images;

        Results(String task, Path dir, int dimension, int bowDimension, List<Example> train, List<Example> test,
                String backbone, boolean images) {
            this.images = images;
            this.task = task;
            this.dir = dir;
            this.dimension = dimension;
            this.bowDimension = bowDimension;
            this.train = train;
            this.test = test;
            this.backbone = backbone;
        }

        /** The no-backbone baseline's method name. */
        String baseline() {
            return images ? Evaluation.PIXELS_LOGREG : Evaluation.BOW_LOGREG;
        }

        double majority() {
            Map<String, Long> counts = train.stream().collect(Collectors.groupingBy(Example::label, Collectors.counting()));
            String top = counts.entrySet().stream().max(Map.Entry.<String, Long>comparingByValue()
                    .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder()))).orElseThrow().getKey();
            return (double) test.stream().filter(e -> e.label().equals(top)).count() / test.size();
        }

        /** Writes summary.md and index.html; returns the Markdown. */
        String writeSummary(String command) {
            long labels = train.stream().map(Example::label).distinct().count();
            String facts = String.format(Locale.ROOT, "%d training and %d held-out examples, %d labels; backbone %s; "
                    + "majority-label accuracy on the held-out split %.3f.", train.size(), test.size(), labels, backbone,
                    majority());
            StringBuilder md = new StringBuilder();
            md.append("# Evaluation: ").append(task).append("\n\n").append(facts).append("\n\n`").append(command)
                    .append("`\n\n");
            HtmlReport html = new HtmlReport("Evaluation: " + task).paragraph(facts).code(command);

            String s1 = "Streaming heads against their offline upper bound (held-out accuracy)";
            String d1 = "Each head learns the training split once, test-then-train, in a seeded shuffled order; the "
                    + "offline head of the same family learns all of it jointly. gap_points = 100 x (offline - streaming).";
            section(md, html, s1, d1, heldOut, "prequential.png", "test-then-train accuracy");
            transfer.ifPresent(t -> section(md, html, "Transfer: backbone against " + (images ? "raw pixels"
                            : "hashed bag-of-words") + ", by number of labels",
                    "Held-out accuracy, mean of the draws; gain_points = 100 x (backbone+logreg - " + baseline()
                            + "), the same logistic regression on " + dimension + "-d embeddings and on " + bowDimension
                            + (images ? " raw pixels (scaled to [0, 1], then L2-normalised)." : " hashed buckets."),
                    t, "transfer.png", "transfer"));
            incremental.ifPresent(t -> section(md, html, "Class-incremental: accuracy on the first labels",
                    incrementalNote, t, "incremental.png", "class-incremental"));
            section(md, html, "Drift: labels rotated mid-stream", "The drift detector (ADWIN-style, on the "
                    + "test-then-train error stream) reports each change once; detected_at counts rises of the error "
                    + "rate (drift-detections.csv also lists falls: the head learning); found_once_in_time: exactly one "
                    + "rise, after the change and within " + driftMaxDelay + " examples of it. Windowed accuracy over the last "
                    + driftWindow + ".", drift, "drift.png", "drift");
            write(dir.resolve("summary.md"), md.toString());
            html.write(dir);
            return md.toString();
        }

        private static void section(StringBuilder md, HtmlReport html, String title, String note, Table table, String png,
                                    String alt) {
            md.append("## ").append(title).append("\n\n").append(note).append("\n\n").append(table.toMarkdown())
                    .append("\n![").append(alt).append("](").append(png).append(")\n\n");
            html.heading(title).paragraph(note).table(table).image(png, alt);
        }

        private static void write(Path file, String text) {
            try {
                Files.writeString(file, text, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }
    }
}
