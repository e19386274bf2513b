package io.headwater.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Sufficient statistics of streaming linear discriminant analysis: per-class counts and sums and
 * the raw second moment {@code sum(x x^T)} over all examples (one triangle only). They update
 * exactly, one example at a time, and add up across partitions or shards ({@link #merge}), so the
 * order in which examples arrive changes nothing but floating-point rounding. The classifier is
 * solved from them on demand ({@link #solve}).
 *
 * <p>Forgetting: {@link #forget(double)} scales every statistic by the same factor, so that what
 * comes after weighs more than what came before (the trainer does this when drift is detected).
 * The statistics therefore carry a weight per class besides the plain count of examples learned;
 * without forgetting, weight and count are equal.
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
    private static final int FORMAT_VERSION = 2;
    /**
     * Bias of a class with no weight (added by {@link #addLabel} but never learned): a finite
     * stand-in for its log-prior, {@code log 0}, so that it is never predicted.
     */
    static final float UNSEEN_CLASS_BIAS = -1e30f;
    /** Added to the diagonal so that a covariance of identical points still solves. */
    private static final double JITTER = 1e-9;
    /** The covariance triangle of this thread's last solve, reused by its next one. */
    private static final ThreadLocal<double[][]> SCRATCH = new ThreadLocal<>();

    private final int dimension;
    private final List<String> labels = new ArrayList<>();
    private final List<double[]> classSums = new ArrayList<>();
    private long[] classCounts = new long[0];
    private double[] classWeights = new double[0];
    /**
     * {@code sum(x x^T)}, lower triangle by rows: {@code secondMoment[i][j]} for {@code j <= i}, so
     * that adding to a row and reading it index the example alike (a loop the JIT vectorises).
     */
    private final double[][] secondMoment;
    /** Examples added to the class sums but not yet to the second moment ({@link #flushPending}). */
    private double[][] pending;
    private int pendingCount;
    /** Most examples held back from the second moment. */
    static final int PENDING = 16;
    private long total;
    private double totalWeight;

    /** Empty statistics for embeddings of the given size. */
    public LdaStatistics(int dimension) {
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be >= 1, found " + dimension);
        }
        this.dimension = dimension;
        this.secondMoment = Linear.lower(dimension);
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

    /** Weight of all examples learned: their number, less what {@link #forget} took away. */
    public double weight() {
        return totalWeight;
    }

    /** Weight of the examples learned with the given label (0 if unseen). */
    public double weight(String label) {
        int c = labels.indexOf(label);
        return c < 0 ? 0 : classWeights[c];
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
        // One NaN or infinity would poison every later solve; check before anything changes.
        for (int i = 0; i < dimension; i++) {
            if (!Float.isFinite(x[i])) {
                throw new BadRecordException("embedding value " + i + " is " + x[i] + ", not a finite number");
            }
        }
        int c = classIndex(label);
        classCounts[c]++;
        classWeights[c]++;
        double[] sum = classSums.get(c);
        if (pending == null) {
            pending = new double[PENDING][dimension];
        }
        double[] p = pending[pendingCount++];
        for (int i = 0; i < dimension; i++) {
            p[i] = x[i];
            sum[i] += p[i];
        }
        if (pendingCount == PENDING) {
            flushPending();
        }
        total++;
        totalWeight++;
    }

    /**
     * Adds the pending examples' {@code x x^T} to the second moment: one pass over the 0.6 MB
     * triangle for up to {@link #PENDING} examples instead of one each. Every element receives the
     * same products in the same order as it would one example at a time, so the result is the same
     * to the bit whenever this runs; everything that reads the second moment calls it first.
     */
    private void flushPending() {
        for (int i = 0; i < dimension; i++) {
            double[] row = secondMoment[i];
            for (int b = 0; b < pendingCount; b++) {
                Linear.axpy(row, pending[b][i], pending[b]);
            }
        }
        pendingCount = 0;
    }

    /** Adds a class with no examples (nothing when the label is known). */
    public void addLabel(String label) {
        classIndex(Objects.requireNonNull(label, "label cannot be null"));
    }

    /**
     * Scales every statistic (class weights, class sums, second moment) by {@code keep}: the class
     * means and the covariance stay as they are, but each example learned afterwards weighs
     * {@code 1 / keep} times more than one learned before. Counts of examples are not changed.
     *
     * @param keep the fraction of weight kept, in (0, 1]
     */
    public void forget(double keep) {
        if (!(keep > 0 && keep <= 1)) {
            throw new IllegalArgumentException("forget factor must be in (0, 1], found " + keep);
        }
        flushPending();
        for (int c = 0; c < labels.size(); c++) {
            classWeights[c] *= keep;
            double[] sum = classSums.get(c);
            for (int i = 0; i < dimension; i++) {
                sum[i] *= keep;
            }
        }
        for (double[] row : secondMoment) {
            for (int j = 0; j < row.length; j++) {
                row[j] *= keep;
            }
        }
        totalWeight *= keep;
    }

    private int classIndex(String label) {
        int c = labels.indexOf(label);
        if (c >= 0) {
            return c;
        }
        labels.add(label);
        classSums.add(new double[dimension]);
        classCounts = Arrays.copyOf(classCounts, classCounts.length + 1);
        classWeights = Arrays.copyOf(classWeights, classWeights.length + 1);
        return labels.size() - 1;
    }

    /** Adds another set of statistics (for example another partition's) into this one. */
    public void merge(LdaStatistics other) {
        if (other.dimension != dimension) {
            throw new IllegalArgumentException("cannot merge statistics of dimension " + other.dimension
                    + " into " + dimension);
        }
        flushPending();
        other.flushPending();
        for (int oc = 0; oc < other.labels.size(); oc++) {
            int c = classIndex(other.labels.get(oc));
            classCounts[c] += other.classCounts[oc];
            classWeights[c] += other.classWeights[oc];
            double[] sum = classSums.get(c);
            double[] otherSum = other.classSums.get(oc);
            for (int i = 0; i < dimension; i++) {
                sum[i] += otherSum[i];
            }
        }
        for (int i = 0; i < dimension; i++) {
            Linear.axpy(secondMoment[i], 1, other.secondMoment[i]);
        }
        total += other.total;
        totalWeight += other.totalWeight;
    }

    /** A deep copy. */
    public LdaStatistics copy() {
        LdaStatistics c = new LdaStatistics(dimension);
        c.merge(this);
        return c;
    }

    /** Class means, one row per label (zeros for a class with no weight). */
    public double[][] means() {
        double[][] means = new double[labels.size()][dimension];
        for (int c = 0; c < labels.size(); c++) {
            if (classWeights[c] == 0) {
                continue;
            }
            double[] sum = classSums.get(c);
            for (int i = 0; i < dimension; i++) {
                means[c][i] = sum[i] / classWeights[c];
            }
        }
        return means;
    }

    /** {@code n - K}, at least 1. */
    private double dof() {
        int weighted = 0;
        for (double w : classWeights) {
            if (w != 0) {
                weighted++;
            }
        }
        return Math.max(1, totalWeight - weighted);
    }

    /** The within-class scatter {@code sum(x x^T) - sum_c n_c mu_c mu_c^T}, lower triangle by rows. */
    private double[][] scatterLower() {
        flushPending();
        // Every element is written below, so a solve can reuse the last one's triangle (1.2 MB at
        // d = 384, allocated and zeroed anew it cost a tenth of the solve); one per thread, as a
        // head is used by one thread at a time and a solve calls nothing that solves. Only
        // shrunkCovariance calls this, and the solve that asked for it is done with it before the next.
        double[][] lower = SCRATCH.get();
        if (lower == null || lower.length != dimension) {
            lower = Linear.lower(dimension);
            SCRATCH.set(lower);
        }
        for (int i = 0; i < dimension; i++) {
            System.arraycopy(secondMoment[i], 0, lower[i], 0, i + 1);
        }
        for (int c = 0; c < labels.size(); c++) {
            if (classWeights[c] == 0) {
                continue;
            }
            double[] sum = classSums.get(c);
            double inv = 1.0 / classWeights[c];
            for (int i = 0; i < dimension; i++) {
                Linear.axpy(lower[i], -(sum[i] * inv), sum);
            }
        }
        return lower;
    }

    /**
     * {@code S = (1 - a) Sigma + a (tr(Sigma) / d) I} (plus a jitter on the diagonal), lower
     * triangle by rows, for {@link Linear#choleskyInPlace}.
     */
    private double[][] shrunkCovariance(double shrinkage) {
        double[][] s = scatterLower();
        double dof = dof();
        double trace = 0;
        for (int i = 0; i < dimension; i++) {
            trace += s[i][i] / dof;
        }
        double target = trace / dimension;
        double scale = (1 - shrinkage) / dof;
        for (int i = 0; i < dimension; i++) {
            double[] row = s[i];
            for (int j = 0; j <= i; j++) {
                row[j] *= scale;
            }
            row[i] += shrinkage * target + JITTER;
        }
        return s;
    }

    /**
     * Solves the LDA classifier: with the shrunk covariance
     * {@code S = (1 - a) Sigma + a (tr(Sigma) / d) I}, each class gets weights {@code S^-1 mu_c} and
     * bias {@code -mu_c . w_c / 2 + log(n_c / n)}; a softmax over the scores gives the posterior.
     * A class without weight (see {@link #addLabel}) gets zero weights and a bias of {@code -1e30},
     * a finite stand-in for {@code log 0}: it never wins.
     *
     * @param shrinkage {@code a} in [0, 1]: how far the covariance is pulled towards a scaled identity
     */
    public HeadArtifact solve(double shrinkage) {
        if (!(shrinkage >= 0 && shrinkage <= 1)) {
            throw new IllegalArgumentException("shrinkage must be in [0, 1], found " + shrinkage);
        }
        if (labels.isEmpty() || totalWeight == 0) {
            throw new IllegalStateException("cannot solve LDA statistics without examples");
        }
        int k = labels.size();
        double[][] means = means();
        double[][] cov = shrunkCovariance(shrinkage);
        Linear.choleskyInPlace(cov);
        double[][] solutions = Linear.choleskySolveAll(cov, means);
        float[] weights = new float[k * dimension];
        float[] bias = new float[k];
        for (int c = 0; c < k; c++) {
            if (classWeights[c] == 0) {
                bias[c] = UNSEEN_CLASS_BIAS;
                continue;
            }
            double[] w = solutions[c];
            double dot = 0;
            for (int i = 0; i < dimension; i++) {
                weights[c * dimension + i] = (float) w[i];
                dot += w[i] * means[c][i];
            }
            bias[c] = (float) (-0.5 * dot + Math.log(classWeights[c] / totalWeight));
        }
        return new HeadArtifact(labels, List.of(
                new DenseLayer(dimension, k, weights, bias, DenseLayer.Activation.SOFTMAX)));
    }

    /** Serialized size in bytes of {@link #encode()}. */
    public int encodedSize() {
        int size = 4 + 4 + 8 + 8 + 4;
        for (String l : labels) {
            size += 4 + l.getBytes(StandardCharsets.UTF_8).length + 8 + 8 + 8 * dimension;
        }
        return size + 8 * triangleSize(dimension);
    }

    /** Writes the statistics into the buffer (big-endian). */
    public void encode(ByteBuffer buf) {
        flushPending();
        buf.putInt(FORMAT_VERSION).putInt(dimension).putLong(total).putDouble(totalWeight).putInt(labels.size());
        for (int c = 0; c < labels.size(); c++) {
            byte[] b = labels.get(c).getBytes(StandardCharsets.UTF_8);
            buf.putInt(b.length).put(b).putLong(classCounts[c]).putDouble(classWeights[c]);
            buf.asDoubleBuffer().put(classSums.get(c));
            buf.position(buf.position() + 8 * dimension);
        }
        // On the wire the upper triangle by rows, as this format always was: (j, j..d-1), that is
        // column j of the lower triangle.
        double[] packed = new double[triangleSize(dimension)];
        int k = 0;
        for (int j = 0; j < dimension; j++) {
            for (int i = j; i < dimension; i++) {
                packed[k++] = secondMoment[i][j];
            }
        }
        buf.asDoubleBuffer().put(packed);
        buf.position(buf.position() + 8 * packed.length);
    }

    /**
     * Reads statistics written by {@link #encode(ByteBuffer)}, or by the previous format (version
     * 1, without weights: each class weighs its count).
     */
    public static LdaStatistics decode(ByteBuffer buf) {
        int version = buf.getInt();
        if (version != FORMAT_VERSION && version != 1) {
            throw new BadRecordException("unsupported LDA statistics format version " + version);
        }
        LdaStatistics s = new LdaStatistics(buf.getInt());
        s.total = buf.getLong();
        s.totalWeight = version == 1 ? s.total : buf.getDouble();
        int k = buf.getInt();
        s.classCounts = new long[k];
        s.classWeights = new double[k];
        for (int c = 0; c < k; c++) {
            byte[] b = new byte[buf.getInt()];
            buf.get(b);
            s.labels.add(new String(b, StandardCharsets.UTF_8));
            s.classCounts[c] = buf.getLong();
            s.classWeights[c] = version == 1 ? s.classCounts[c] : buf.getDouble();
            double[] sum = new double[s.dimension];
            buf.asDoubleBuffer().get(sum);
            buf.position(buf.position() + 8 * s.dimension);
            s.classSums.add(sum);
        }
        double[] packed = new double[triangleSize(s.dimension)];
        buf.asDoubleBuffer().get(packed);
        buf.position(buf.position() + 8 * packed.length);
        int p = 0;
        for (int j = 0; j < s.dimension; j++) {
            for (int i = j; i < s.dimension; i++) {
                s.secondMoment[i][j] = packed[p++];
            }
        }
        return s;
    }
}
