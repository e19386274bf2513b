package io.headwater.core.evaluation;

import io.headwater.core.DriftDetector;
import io.headwater.core.Head;
import io.headwater.core.SoftmaxRegression;
import io.headwater.core.SparseVector;
import io.headwater.core.WindowedAccuracy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * The experiments behind {@code headwater evaluate}, on examples already embedded: pure functions
 * of their inputs and seeds, no I/O.
 *
 * <pre>{@code
 * StreamRun run = Evaluation.prequential(variant, 384, train, Evaluation.Settings.of(500, 100));
 * double streaming = Evaluation.accuracy(run.head(), test);
 * double offline = Evaluation.accuracy(Evaluation.offline(variant, 384, train, 5, 42), test);
 * }</pre>
 */
public final class Evaluation {

    private Evaluation() {
    }

    /**
     * How a test-then-train pass is observed.
     *
     * @param window     predictions the windowed accuracy covers
     * @param every      a curve point after every this many examples (and after the last)
     * @param probe      examples scored (without learning) at every curve point; empty for none
     * @param driftDelta the {@link DriftDetector}'s confidence on the error stream, or empty for none
     * @param react      whether the head is told ({@link Head#reactToDrift()}) when the detector
     *                   finds that its error rate rose, as the trainer does
     */
    public record Settings(int window, int every, List<Example> probe, Optional<Double> driftDelta, boolean react) {
        public Settings {
            if (window < 1 || every < 1) {
                throw new IllegalArgumentException("window and every must be >= 1, found " + window + ", " + every);
            }
            probe = List.copyOf(probe);
        }

        public static Settings of(int window, int every) {
            return new Settings(window, every, List.of(), Optional.empty(), false);
        }

        public Settings withProbe(List<Example> examples) {
            return new Settings(window, every, examples, driftDelta, react);
        }

        /** Watch the error stream with a drift detector; {@code react}: tell the head when its error rose. */
        public Settings withDrift(double delta, boolean reactToDrift) {
            return new Settings(window, every, probe, Optional.of(delta), reactToDrift);
        }
    }

    /**
     * One test-then-train pass of a new head over {@code stream}, in its order. The head comes back
     * as it would be published after the last example (see {@link Head#export()}).
     */
    public static StreamRun prequential(HeadVariant variant, int dimension, List<Example> stream, Settings settings) {
        Head head = variant.create(dimension);
        WindowedAccuracy window = new WindowedAccuracy(settings.window());
        Optional<DriftDetector> drift = settings.driftDelta().map(DriftDetector::new);
        List<Point> windowed = new ArrayList<>();
        List<Point> probe = new ArrayList<>();
        List<Detection> detections = new ArrayList<>();
        long hits = 0;
        for (int i = 0; i < stream.size(); i++) {
            Example e = stream.get(i);
            boolean correct = head.predict(e.embedding()).map(e.label()::equals).orElse(false);
            window.record(correct);
            hits += correct ? 1 : 0;
            if (drift.isPresent()) {
                double before = drift.get().mean();
                if (drift.get().add(correct ? 0 : 1)) {
                    Detection d = new Detection(i + 1, before, drift.get().mean());
                    detections.add(d);
                    if (settings.react() && d.errorRose()) {
                        head.reactToDrift();
                    }
                }
            }
            head.learn(e.embedding(), e.label());
            if ((i + 1) % settings.every() == 0 || i == stream.size() - 1) {
                windowed.add(new Point(i + 1, window.accuracy()));
                if (!settings.probe().isEmpty()) {
                    probe.add(new Point(i + 1, accuracy(head, settings.probe())));
                }
            }
        }
        publish(head);
        return new StreamRun(head, windowed, probe, detections, stream.isEmpty() ? 0 : (double) hits / stream.size());
    }

    /** Fraction of {@code examples} the head predicts right (a head that predicts nothing misses). */
    public static double accuracy(Head head, List<Example> examples) {
        long hits = examples.stream()
                .filter(e -> head.predict(e.embedding()).map(e.label()::equals).orElse(false)).count();
        return examples.isEmpty() ? 0 : (double) hits / examples.size();
    }

    /**
     * The offline upper bound of a head family: a new head trained jointly on all of {@code train},
     * {@code epochs} passes each in a new shuffled order.
     */
    public static Head offline(HeadVariant variant, int dimension, List<Example> train, int epochs, long seed) {
        Head head = variant.create(dimension);
        Random random = new Random(seed);
        List<Example> order = new ArrayList<>(train);
        for (int epoch = 0; epoch < epochs; epoch++) {
            Collections.shuffle(order, random);
            for (Example e : order) {
                head.learn(e.embedding(), e.label());
            }
        }
        publish(head);
        return head;
    }

    /**
     * Brings the head to the state a published version has: a closed-form head solves from every
     * example learned (between solves it predicts with its last solution).
     */
    private static void publish(Head head) {
        if (head.examplesLearned() > 0) {
            head.export();
        }
    }

    /** Held-out accuracy of one method at one label budget, over repeated random draws. */
    public record BudgetResult(int labels, String method, List<Double> accuracies) {
        public double mean() {
            return accuracies.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        }
    }

    /** Logistic regression on the backbone's embeddings. */
    public static final String BACKBONE_LOGREG = "backbone+logreg";
    /** Logistic regression on hashed bag-of-words features: no pretrained model at all. */
    public static final String BOW_LOGREG = "bow+logreg";
    /** Logistic regression on an image's raw pixels, scaled to [0, 1]: no pretrained model at all. */
    public static final String PIXELS_LOGREG = "pixels+logreg";

    /**
     * What transfer is worth with few labels: for each budget, {@code repeats} random draws of that
     * many training examples; each draw trains logistic regression on embeddings and on hashed
     * bag-of-words features, and every head variant (one pass) on embeddings, all scored on {@code test}.
     */
    public static List<BudgetResult> labelBudgets(List<Example> train, List<Example> test, int[] budgets, int repeats,
                                                  List<HeadVariant> heads, int dimension, int bowDimension, long seed) {
        return labelBudgets(train, test, budgets, repeats, heads, dimension, bowDimension, seed, BOW_LOGREG);
    }

    /**
     * As {@link #labelBudgets(List, List, int[], int, List, int, int, long)}, naming the no-backbone
     * baseline on {@link Example#words()} {@code baseline}: {@link #PIXELS_LOGREG} when those are an
     * image's raw pixels.
     */
    public static List<BudgetResult> labelBudgets(List<Example> train, List<Example> test, int[] budgets, int repeats,
                                                  List<HeadVariant> heads, int dimension, int bowDimension, long seed,
                                                  String baseline) {
        Map<String, BudgetResult> results = new LinkedHashMap<>();
        List<SparseVector> testEmb = test.stream().map(e -> SparseVector.dense(e.embedding())).toList();
        List<SparseVector> testWords = test.stream().map(Example::words).toList();
        List<String> testLabels = test.stream().map(Example::label).toList();
        for (int budget : budgets) {
            if (budget > train.size()) {
                continue;
            }
            for (int r = 0; r < repeats; r++) {
                List<Example> draw = new ArrayList<>(train);
                Collections.shuffle(draw, new Random(seed + 1000L * budget + r));
                draw = draw.subList(0, budget);
                List<String> ys = draw.stream().map(Example::label).toList();
                SoftmaxRegression.Options opts = SoftmaxRegression.Options.defaults(seed + r);
                double emb = SoftmaxRegression.train(draw.stream().map(e -> SparseVector.dense(e.embedding())).toList(),
                        ys, dimension, opts).accuracy(testEmb, testLabels);
                double bow = SoftmaxRegression.train(draw.stream().map(Example::words).toList(), ys, bowDimension, opts)
                        .accuracy(testWords, testLabels);
                add(results, budget, BACKBONE_LOGREG, emb);
                add(results, budget, baseline, bow);
                for (HeadVariant v : heads) {
                    Head head = v.create(dimension);
                    draw.forEach(e -> head.learn(e.embedding(), e.label()));
                    publish(head);
                    add(results, budget, "backbone+" + v.name(), accuracy(head, test));
                }
            }
        }
        return List.copyOf(results.values());
    }

    private static void add(Map<String, BudgetResult> results, int budget, String method, double accuracy) {
        results.computeIfAbsent(budget + "/" + method, k -> new BudgetResult(budget, method, new ArrayList<>()))
                .accuracies().add(accuracy);
    }

    /** The labels of {@code examples} in a seeded random order, cut into groups of {@code groupSize}. */
    public static List<List<String>> labelGroups(List<Example> examples, int groupSize, long seed) {
        List<String> labels = new ArrayList<>(new TreeSet<>(examples.stream().map(Example::label).toList()));
        Collections.shuffle(labels, new Random(seed));
        List<List<String>> groups = new ArrayList<>();
        for (int i = 0; i < labels.size(); i += groupSize) {
            groups.add(List.copyOf(labels.subList(i, Math.min(labels.size(), i + groupSize))));
        }
        return groups;
    }

    /**
     * A class-incremental stream: all of the first group's examples (in their order in
     * {@code train}), then all of the second group's, and so on.
     */
    public static List<Example> classIncremental(List<Example> train, List<List<String>> groups) {
        List<Example> stream = new ArrayList<>();
        for (List<String> g : groups) {
            Set<String> in = new HashSet<>(g);
            train.stream().filter(e -> in.contains(e.label())).forEach(stream::add);
        }
        return stream;
    }

    /** The examples whose label is in {@code labels}. */
    public static List<Example> withLabels(List<Example> examples, List<String> labels) {
        Set<String> in = new HashSet<>(labels);
        return examples.stream().filter(e -> in.contains(e.label())).toList();
    }

    /**
     * A label-drift stream: {@code stream} as is up to position {@code changeAt}, then with every
     * label replaced by the next one in sorted order (for two labels: flipped).
     */
    public static List<Example> labelDrift(List<Example> stream, int changeAt) {
        List<String> labels = new ArrayList<>(new TreeSet<>(stream.stream().map(Example::label).toList()));
        Map<String, String> next = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            next.put(labels.get(i), labels.get((i + 1) % labels.size()));
        }
        List<Example> out = new ArrayList<>(stream.size());
        for (int i = 0; i < stream.size(); i++) {
            Example e = stream.get(i);
            out.add(i < changeAt ? e : e.relabel(next.get(e.label())));
        }
        return out;
    }
}
