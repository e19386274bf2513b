package io.headwater.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * Multinomial logistic regression trained offline by shuffled-epoch SGD with L2 weight decay, on
 * sparse or dense inputs. The evaluation's reference classifier: the same learner on backbone
 * embeddings and on {@link HashedBagOfWords} features tells what the pretrained backbone is worth.
 *
 * <pre>{@code
 * SoftmaxRegression lr = SoftmaxRegression.train(xs, labels, bow.dimension(), SoftmaxRegression.Options.defaults(7));
 * String guess = lr.predict(bow.features("free money"));
 * }</pre>
 */
public final class SoftmaxRegression {

    /**
     * @param epochs       passes over the training set, each in a new shuffled order
     * @param learningRate SGD step (inputs are expected to be L2-normalised)
     * @param l2           weight decay per example
     * @param seed         shuffle seed
     */
    public record Options(int epochs, double learningRate, double l2, long seed) {
        public Options {
            if (epochs < 1 || !(learningRate > 0) || !(l2 >= 0)) {
                throw new ConfigException("softmax regression needs epochs >= 1, learning rate > 0 and l2 >= 0, found "
                        + epochs + ", " + learningRate + ", " + l2);
            }
        }

        public static Options defaults(long seed) {
            return new Options(40, 0.5, 1e-4, seed);
        }
    }

    private final List<String> labels;
    private final double[][] v;
    private final double[] bias;
    private final double scale;

    private SoftmaxRegression(List<String> labels, double[][] v, double[] bias, double scale) {
        this.labels = labels;
        this.v = v;
        this.bias = bias;
        this.scale = scale;
    }

    /** Trains on {@code xs} (indices below {@code dimension}) with their {@code ys}. */
    public static SoftmaxRegression train(List<SparseVector> xs, List<String> ys, int dimension, Options options) {
        if (xs.size() != ys.size() || xs.isEmpty()) {
            throw new IllegalArgumentException("need as many labels as inputs, at least one: " + xs.size() + " vs " + ys.size());
        }
        List<String> labels = List.copyOf(new TreeSet<>(ys));
        int k = labels.size();
        int[] y = new int[ys.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = Collections.binarySearch(labels, ys.get(i));
        }
        double[][] v = new double[k][dimension];
        double[] bias = new double[k];
        // Weights are scale * v, so decay is one multiplication per step instead of one per weight.
        double scale = 1;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < xs.size(); i++) {
            order.add(i);
        }
        Random random = new Random(options.seed());
        double[] p = new double[k];
        double lr = options.learningRate();
        for (int epoch = 0; epoch < options.epochs(); epoch++) {
            Collections.shuffle(order, random);
            for (int i : order) {
                SparseVector x = xs.get(i);
                probabilities(v, bias, scale, x, p);
                scale *= 1 - lr * options.l2();
                if (scale < 1e-9) {
                    for (double[] row : v) {
                        for (int j = 0; j < row.length; j++) {
                            row[j] *= scale;
                        }
                    }
                    scale = 1;
                }
                for (int c = 0; c < k; c++) {
                    double g = p[c] - (c == y[i] ? 1 : 0);
                    if (g == 0) {
                        continue;
                    }
                    double step = lr * g / scale;
                    double[] row = v[c];
                    for (int j = 0; j < x.indices().length; j++) {
                        row[x.indices()[j]] -= step * x.values()[j];
                    }
                    bias[c] -= lr * g;
                }
            }
        }
        return new SoftmaxRegression(labels, v, bias, scale);
    }

    private static void probabilities(double[][] v, double[] bias, double scale, SparseVector x, double[] p) {
        for (int c = 0; c < v.length; c++) {
            p[c] = scale * x.dot(v[c]) + bias[c];
        }
        DenseLayer.softmaxInPlace(p);
    }

    /** Labels seen in training, sorted. */
    public List<String> labels() {
        return labels;
    }

    /** The label with the highest score. */
    public String predict(SparseVector x) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < v.length; c++) {
            double s = scale * x.dot(v[c]) + bias[c];
            if (s > bestScore) {
                bestScore = s;
                best = c;
            }
        }
        return labels.get(best);
    }

    /** Fraction of {@code xs} predicted as their {@code ys}. */
    public double accuracy(List<SparseVector> xs, List<String> ys) {
        int hits = 0;
        for (int i = 0; i < xs.size(); i++) {
            if (predict(xs.get(i)).equals(ys.get(i))) {
                hits++;
            }
        }
        return xs.isEmpty() ? 0 : (double) hits / xs.size();
    }
}
