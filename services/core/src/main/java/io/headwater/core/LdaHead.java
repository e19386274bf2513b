package io.headwater.core;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * The closed-form streaming head: {@link LdaStatistics} that update exactly with each example, and
 * a classifier re-solved from them every {@code solveEvery} examples (and at once when a new label
 * appears). Deterministic, no learning rate, no forgetting. Before the first solve it predicts the
 * most frequent label.
 */
public final class LdaHead implements Head {
    private final LdaStatistics stats;
    private final double shrinkage;
    private final int solveEvery;
    private HeadArtifact solved;
    private byte[] solvedBytes;
    private long learnedAtSolve;

    LdaHead(int dimension, double shrinkage, int solveEvery) {
        this(new LdaStatistics(dimension), shrinkage, solveEvery, null, 0);
    }

    private LdaHead(LdaStatistics stats, double shrinkage, int solveEvery, HeadArtifact solved, long learnedAtSolve) {
        this.stats = stats;
        this.shrinkage = shrinkage;
        this.solveEvery = solveEvery;
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
        if (solved != null) {
            return Optional.of(solved.labels().get(solved.predict(embedding)));
        }
        List<String> labels = stats.labels();
        String best = null;
        for (String l : labels) {
            if (best == null || stats.count(l) > stats.count(best)) {
                best = l;
            }
        }
        return Optional.ofNullable(best);
    }

    @Override
    public void learn(float[] embedding, String label) {
        int before = stats.labels().size();
        stats.add(embedding, label);
        boolean newLabel = stats.labels().size() != before;
        if ((newLabel && before > 0) || stats.count() - learnedAtSolve >= solveEvery) {
            solveNow();
        }
    }

    private HeadArtifact solveNow() {
        setSolved(stats.solve(shrinkage));
        learnedAtSolve = stats.count();
        return solved;
    }

    /** Solves from all statistics learned so far; the result also becomes the predicting classifier. */
    @Override
    public HeadArtifact export() {
        if (solved != null && learnedAtSolve == stats.count()) {
            return solved;
        }
        return solveNow();
    }

    @Override
    public int encodedSize() {
        return 8 + 4 + 8 + 4 + (solvedBytes == null ? 0 : solvedBytes.length) + stats.encodedSize();
    }

    @Override
    public void encode(ByteBuffer buf) {
        buf.putDouble(shrinkage).putInt(solveEvery).putLong(learnedAtSolve);
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
        long learnedAtSolve = buf.getLong();
        int n = buf.getInt();
        HeadArtifact solved = null;
        if (n >= 0) {
            byte[] b = new byte[n];
            buf.get(b);
            solved = HeadArtifact.decode(b);
        }
        return new LdaHead(LdaStatistics.decode(buf), shrinkage, solveEvery, solved, learnedAtSolve);
    }
}
