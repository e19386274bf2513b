package io.headwater.core;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * The closed-form streaming head: {@link LdaStatistics} that update exactly with each example
 * ({@code O(d^2)}), and a classifier solved from them ({@code O(d^3)}, about 2 milliseconds at
 * {@code d = 384}) when a prediction needs it. Deterministic, no learning rate. Before the first
 * solve it predicts the most frequent label.
 *
 * <p>Solve schedule: {@link #learn} only updates the statistics. {@link #predict} and
 * {@link #scores} re-solve first when the examples since the last solve reach
 * {@code max(solveEvery, 0.1 x weight)}: every {@code solveEvery} examples while the head is young,
 * then after each tenth more data, so the classifier is never more than about 10% behind its
 * statistics and the solves cost {@code O(log n)} in all. A class's first example makes the next
 * solve due after {@code solveEvery} examples at most (at once for the very first solve, when the
 * second class appears): a new class is predicted soon, and a young head that meets many classes
 * (36 in its first 36 examples) does not solve for each. After {@link #reactToDrift()} the weight
 * is small again, and so is the interval. {@link #export()} always solves from everything learned.
 *
 * <p>Drift: {@link #reactToDrift()} scales the statistics by the forget factor
 * ({@link LdaStatistics#forget}), e.g. 0.1 keeps a tenth of the weight of everything learned so
 * far, so the classifier follows the new distribution after a few tens of examples instead of
 * being outweighed by the whole past. The solved classifier (and so every prediction) is the same
 * right after the call: uniform scaling leaves the means and the covariance as they were.
 *
 * <p>Growing: {@link #addLabel} adds a class with no weight; it gets zero weights and a bias of
 * {@code -1e30} when solved, so it is never predicted until examples of it are learned.
 */
public final class LdaHead implements Head {
    private final LdaStatistics stats;
    private final double shrinkage;
    private final int solveEvery;
    private final double forget;
    /** Share of the statistics' weight that may be learned before predictions re-solve. */
    static final double SOLVE_FRACTION = 0.1;
    private boolean classPending;
    private HeadArtifact solved;
    private byte[] solvedBytes;
    private long learnedAtSolve;

    LdaHead(int dimension, double shrinkage, int solveEvery, double forget) {
        this(new LdaStatistics(dimension), shrinkage, solveEvery, forget, null, 0);
    }

    private LdaHead(LdaStatistics stats, double shrinkage, int solveEvery, double forget, HeadArtifact solved,
                    long learnedAtSolve) {
        this.stats = stats;
        this.shrinkage = shrinkage;
        this.solveEvery = solveEvery;
        this.forget = forget;
        setSolved(solved);
        this.learnedAtSolve = learnedAtSolve;
    }

    /** The trainer writes this head's state on every example; its artifact bytes change only per solve. */
    private void setSolved(HeadArtifact artifact) {
        this.solved = artifact;
        this.solvedBytes = artifact == null ? null : artifact.encode();
    }

    @Override
    public HeadType type() {
        return HeadType.LDA;
    }

    @Override
    public int dimension() {
        return stats.dimension();
    }

    @Override
    public List<String> labels() {
        return stats.labels();
    }

    @Override
    public long examplesLearned() {
        return stats.count();
    }

    /** The statistics behind this head (live, not a copy). */
    public LdaStatistics statistics() {
        return stats;
    }

    @Override
    public Optional<String> predict(float[] embedding) {
        solveIfDue();
        if (solved != null) {
            return Optional.of(solved.labels().get(solved.predict(embedding)));
        }
        if (stats.count() == 0) {
            return Optional.empty();
        }
        String best = null;
        for (String l : stats.labels()) {
            if (best == null || stats.weight(l) > stats.weight(best)) {
                best = l;
            }
        }
        return Optional.of(best);
    }

    /**
     * The solved classifier's probabilities; labels added after the last solve get 0. Before the
     * first solve, the share of each label's weight. Empty when nothing has been learned.
     */
    @Override
    public double[] scores(float[] embedding) {
        List<String> labels = stats.labels();
        if (stats.count() == 0) {
            return new double[0];
        }
        solveIfDue();
        double[] out = new double[labels.size()];
        if (solved != null) {
            // Labels are only ever appended, so the solved ones are a prefix of the current ones.
            float[] p = solved.probabilities(embedding);
            for (int i = 0; i < p.length; i++) {
                out[i] = p[i];
            }
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = stats.weight(labels.get(i)) / stats.weight();
            }
        }
        return out;
    }

    @Override
    public void addLabel(String label) {
        stats.addLabel(label);
    }

    /** Scales the statistics by the forget factor; predictions stay as they are until the next solve. */
    @Override
    public void reactToDrift() {
        stats.forget(forget);
    }

    @Override
    public void learn(float[] embedding, String label) {
        boolean firstOfClass = stats.count(label) == 0;
        stats.add(embedding, label);
        if (firstOfClass && stats.count() > 1) {
            classPending = true;
        }
    }

    /** See the class comment. */
    private void solveIfDue() {
        long since = stats.count() - learnedAtSolve;
        if (since > 0 && (classPending && (solved == null || since >= solveEvery)
                || since >= Math.max(solveEvery, Math.ceil(SOLVE_FRACTION * stats.weight())))) {
            solveNow();
        }
    }

    private HeadArtifact solveNow() {
        setSolved(stats.solve(shrinkage));
        learnedAtSolve = stats.count();
        classPending = false;
        return solved;
    }

    /**
     * Solves from all statistics learned so far. The predicting classifier stays on its own schedule:
     * when a candidate is exported (the trainer does it by wall clock too) must not change what the
     * head predicts, or test-then-train results, drift reactions and so the final head would depend
     * on timing rather than only on the examples and their order.
     */
    @Override
    public HeadArtifact export() {
        if (solved != null && learnedAtSolve == stats.count() && solved.labels().size() == stats.labels().size()) {
            return solved;
        }
        return stats.solve(shrinkage);
    }

    @Override
    public int encodedSize() {
        return 8 + 4 + 8 + 8 + 1 + 4 + (solvedBytes == null ? 0 : solvedBytes.length) + stats.encodedSize();
    }

    @Override
    public void encode(ByteBuffer buf) {
        buf.putDouble(shrinkage).putInt(solveEvery).putDouble(forget).putLong(learnedAtSolve)
                .put((byte) (classPending ? 1 : 0));
        if (solvedBytes == null) {
            buf.putInt(-1);
        } else {
            buf.putInt(solvedBytes.length).put(solvedBytes);
        }
        stats.encode(buf);
    }

    static LdaHead decode(ByteBuffer buf) {
        double shrinkage = buf.getDouble();
        int solveEvery = buf.getInt();
        double forget = buf.getDouble();
        long learnedAtSolve = buf.getLong();
        boolean classPending = buf.get() != 0;
        int n = buf.getInt();
        HeadArtifact solved = null;
        if (n >= 0) {
            byte[] b = new byte[n];
            buf.get(b);
            solved = HeadArtifact.decode(b);
        }
        LdaHead head = new LdaHead(LdaStatistics.decode(buf), shrinkage, solveEvery, forget, solved, learnedAtSolve);
        head.classPending = classPending;
        return head;
    }
}
