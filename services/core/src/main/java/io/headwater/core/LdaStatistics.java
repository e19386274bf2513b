package io.headwater.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Sufficient statistics of streaming linear discriminant analysis: per-class counts and sums and
 * the raw second moment {@code sum(x x^T)} over all examples (upper triangle only). They update
 * exactly, one example at a time, and add up across partitions or shards ({@link #merge}), so the
 * order in which examples arrive changes nothing but floating-point rounding. The classifier is
 * solved from them on demand ({@link #solve}).
 *
 * <p>Size: {@code d (d + 1) / 2} doubles for the second moment plus {@code d} per class: about
 * 0.6 MB for {@code d = 384}.
 *
 * <pre>{@code
 * LdaStatistics stats = new LdaStatistics(384);
 * stats.add(embedding, "spam");
 * HeadArtifact head = stats.solve(0.1);
 * }</pre>
 */
public final class LdaStatistics {
    private static final int FORMAT_VERSION = 1;
    /** Added to the diagonal so that a covariance of identical points still solves. */
    private static final double JITTER = 1e-9;

    private final int dimension;
    private final List<String> labels = new ArrayList<>();
    private final List<double[]> classSums = new ArrayList<>();
    private long[] classCounts = new long[0];
    private final double[] secondMoment;
    private long total;

    /** Empty statistics for embeddings of the given size. */
    public LdaStatistics(int dimension) {
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be >= 1, found " + dimension);
        }
        this.dimension = dimension;
        this.secondMoment = new double[triangleSize(dimension)];
    }

    private static int triangleSize(int d) {
        return d * (d + 1) / 2;
    }

    public int dimension() {
        return dimension;
    }

    /** Labels in the order they were first seen. */
    public List<String> labels() {
        return List.copyOf(labels);
    }

    /** Number of examples learned. */
    public long count() {
        return total;
    }

    /** Number of examples learned with the given label (0 if unseen). */
    public long count(String label) {
        int c = labels.indexOf(label);
        return c < 0 ? 0 : classCounts[c];
    }

    /** Adds one example. */
    public void add(float[] x, String label) {
        Objects.requireNonNull(label, "label cannot be null");
        if (x.length != dimension) {
            throw new BadRecordException("embedding has " + x.length + " values, the head expects " + dimension);
        }
        int c = classIndex(label);
        classCounts[c]++;
        double[] sum = classSums.get(c);
        int k = 0;
        for (int i = 0; i < dimension; i++) {
            double xi = x[i];
            sum[i] += xi;
            for (int j = i; j < dimension; j++) {
                secondMoment[k++] += xi * x[j];
            }
        }
        total++;
    }

    private int classIndex(String label) {
        int c = labels.indexOf(label);
        if (c >= 0) {
            return c;
        }
        labels.add(label);
        classSums.add(new double[dimension]);
        classCounts = Arrays.copyOf(classCounts, classCounts.length + 1);
        return labels.size() - 1;
    }

    /** Adds another set of statistics (for example another partition's) into this one. */
    public void merge(LdaStatistics other) {
        if (other.dimension != dimension) {
            throw new IllegalArgumentException("cannot merge statistics of dimension " + other.dimension
                    + " into " + dimension);
        }
        for (int oc = 0; oc < other.labels.size(); oc++) {
            int c = classIndex(other.labels.get(oc));
            classCounts[c] += other.classCounts[oc];
            double[] sum = classSums.get(c);
            double[] otherSum = other.classSums.get(oc);
            for (int i = 0; i < dimension; i++) {
                sum[i] += otherSum[i];
            }
        }
        for (int k = 0; k < secondMoment.length; k++) {
            secondMoment[k] += other.secondMoment[k];
        }
        total += other.total;
    }

    /** A deep copy. */
    public LdaStatistics copy() {
        LdaStatistics c = new LdaStatistics(dimension);
        c.merge(this);
        return c;
    }

    /** Class means, one row per label. */
    public double[][] means() {
        double[][] means = new double[labels.size()][dimension];
        for (int c = 0; c < labels.size(); c++) {
            double[] sum = classSums.get(c);
            for (int i = 0; i < dimension; i++) {
                means[c][i] = sum[i] / classCounts[c];
            }
        }
        return means;
    }

    /**
     * The pooled within-class covariance {@code (sum(x x^T) - sum_c n_c mu_c mu_c^T) / (n - K)},
     * as a full symmetric matrix.
     */
    public double[][] pooledCovariance() {
        double[][] cov = new double[dimension][dimension];
        int k = 0;
        for (int i = 0; i < dimension; i++) {
            for (int j = i; j < dimension; j++) {
                cov[i][j] = secondMoment[k++];
            }
        }
        for (int c = 0; c < labels.size(); c++) {
            double[] sum = classSums.get(c);
            double inv = 1.0 / classCounts[c];
            for (int i = 0; i < dimension; i++) {
                double si = sum[i] * inv;
                for (int j = i; j < dimension; j++) {
                    cov[i][j] -= si * sum[j];
                }
            }
        }
        double dof = Math.max(1, total - labels.size());
        for (int i = 0; i < dimension; i++) {
            for (int j = i; j < dimension; j++) {
                cov[i][j] /= dof;
                cov[j][i] = cov[i][j];
            }
        }
        return cov;
    }

    /**
     * Solves the LDA classifier: with the shrunk covariance
     * {@code S = (1 - a) Sigma + a (tr(Sigma) / d) I}, each class gets weights {@code S^-1 mu_c} and
     * bias {@code -mu_c . w_c / 2 + log(n_c / n)}; a softmax over the scores gives the posterior.
     *
     * @param shrinkage {@code a} in [0, 1]: how far the covariance is pulled towards a scaled identity
     */
    public HeadArtifact solve(double shrinkage) {
        if (!(shrinkage >= 0 && shrinkage <= 1)) {
            throw new IllegalArgumentException("shrinkage must be in [0, 1], found " + shrinkage);
        }
        if (labels.isEmpty()) {
            throw new IllegalStateException("cannot solve LDA statistics without examples");
        }
        int k = labels.size();
        double[][] means = means();
        double[][] cov = pooledCovariance();
        double trace = 0;
        for (int i = 0; i < dimension; i++) {
            trace += cov[i][i];
        }
        double target = trace / dimension;
        for (int i = 0; i < dimension; i++) {
            for (int j = 0; j < dimension; j++) {
                cov[i][j] *= (1 - shrinkage);
            }
            cov[i][i] += shrinkage * target + JITTER;
        }
        double[][] chol = Linear.cholesky(cov);
        float[] weights = new float[k * dimension];
        float[] bias = new float[k];
        for (int c = 0; c < k; c++) {
            double[] w = Linear.choleskySolve(chol, means[c]);
            double dot = 0;
            for (int i = 0; i < dimension; i++) {
                weights[c * dimension + i] = (float) w[i];
                dot += w[i] * means[c][i];
            }
            bias[c] = (float) (-0.5 * dot + Math.log((double) classCounts[c] / total));
        }
        return new HeadArtifact(labels, List.of(
                new DenseLayer(dimension, k, weights, bias, DenseLayer.Activation.SOFTMAX)));
    }

    /** Serialized size in bytes of {@link #encode()}. */
    public int encodedSize() {
        int size = 4 + 4 + 8 + 4;
        for (String l : labels) {
            size += 4 + l.getBytes(StandardCharsets.UTF_8).length + 8 + 8 * dimension;
        }
        return size + 8 * secondMoment.length;
    }

    /** Writes the statistics into the buffer (big-endian). */
    public void encode(ByteBuffer buf) {
        buf.putInt(FORMAT_VERSION).putInt(dimension).putLong(total).putInt(labels.size());
        for (int c = 0; c < labels.size(); c++) {
            byte[] b = labels.get(c).getBytes(StandardCharsets.UTF_8);
            buf.putInt(b.length).put(b).putLong(classCounts[c]);
            buf.asDoubleBuffer().put(classSums.get(c));
            buf.position(buf.position() + 8 * dimension);
        }
        buf.asDoubleBuffer().put(secondMoment);
        buf.position(buf.position() + 8 * secondMoment.length);
    }

    /** Reads statistics written by {@link #encode(ByteBuffer)}. */
    public static LdaStatistics decode(ByteBuffer buf) {
        int version = buf.getInt();
        if (version != FORMAT_VERSION) {
            throw new BadRecordException("unsupported LDA statistics format version " + version);
        }
        LdaStatistics s = new LdaStatistics(buf.getInt());
        s.total = buf.getLong();
        int k = buf.getInt();
        s.classCounts = new long[k];
        for (int c = 0; c < k; c++) {
            byte[] b = new byte[buf.getInt()];
            buf.get(b);
            s.labels.add(new String(b, StandardCharsets.UTF_8));
            s.classCounts[c] = buf.getLong();
            double[] sum = new double[s.dimension];
            buf.asDoubleBuffer().get(sum);
            buf.position(buf.position() + 8 * s.dimension);
            s.classSums.add(sum);
        }
        buf.asDoubleBuffer().get(s.secondMoment);
        buf.position(buf.position() + 8 * s.secondMoment.length);
        return s;
    }
}
