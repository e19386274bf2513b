package io.headwater.core;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * ADWIN-style change detection on a stream of values in [0, 1] (for example a head's
 * test-then-train errors: 1 for a miss, 0 for a hit). It keeps an adaptive window of recent values
 * in blocks; every {@code checkEvery} values it tries each split of the window into an older and
 * a newer part, and when their means differ by more than the Hoeffding bound
 * {@code sqrt(ln(4 n / delta) / (2 m))} ({@code m} the harmonic mean of the two sizes) it drops the
 * older part, at the split with the strongest evidence. Dropping is the reset: the old regime is gone from the window, so one change is
 * reported once, not again on every later value. Memory is bounded by {@code maxWindow}.
 *
 * <pre>{@code
 * DriftDetector drift = new DriftDetector(0.002);
 * if (drift.add(correct ? 0 : 1)) {
 *     log.warn("error rate changed: now {}", drift.mean());
 * }
 * }</pre>
 */
public final class DriftDetector {
    private static final int BLOCK = 32;

    private final double delta;
    private final int checkEvery;
    private final int maxWindow;
    /** Full blocks, oldest first: {sum, count}. */
    private final ArrayDeque<double[]> blocks = new ArrayDeque<>();
    private double openSum;
    private int openCount;
    private long total;
    private double sum;
    private long seen;
    private long detections;

    /** With {@code checkEvery} 32 and a window of at most 100,000 values. */
    public DriftDetector(double delta) {
        this(delta, BLOCK, 100_000);
    }

    public DriftDetector(double delta, int checkEvery, int maxWindow) {
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("delta must be in (0, 1), found " + delta);
        }
        if (checkEvery < 1 || maxWindow < 2 * BLOCK) {
            throw new IllegalArgumentException("checkEvery must be >= 1 and maxWindow >= " + 2 * BLOCK);
        }
        this.delta = delta;
        this.checkEvery = checkEvery;
        this.maxWindow = maxWindow;
    }

    /**
     * Adds a value; true when this value completed the evidence of a change (reported once per change).
     */
    public boolean add(double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException("values must be in [0, 1], found " + value);
        }
        openSum += value;
        openCount++;
        sum += value;
        total++;
        seen++;
        if (openCount == BLOCK) {
            blocks.addLast(new double[] {openSum, openCount});
            openSum = 0;
            openCount = 0;
            while (total > maxWindow && !blocks.isEmpty()) {
                dropOldest();
            }
        }
        if (seen % checkEvery != 0) {
            return false;
        }
        boolean changed = false;
        while (cutOnce()) {
            changed = true;
        }
        if (changed) {
            detections++;
        }
        return changed;
    }

    /**
     * Tries every block boundary as a split; if any cuts, drops the older part at the split with the
     * strongest evidence (largest difference over its bound), which is the likeliest change point.
     * Dropping only up to the first split that cuts would leave old values behind and report the
     * same change again later.
     */
    private boolean cutOnce() {
        if (blocks.size() < 2) {
            return false;
        }
        double olderSum = 0;
        long olderCount = 0;
        int bestSplit = -1;
        double bestScore = 1;
        Iterator<double[]> it = blocks.iterator();
        for (int i = 0; i < blocks.size() - 1 && it.hasNext(); i++) {
            double[] b = it.next();
            olderSum += b[0];
            olderCount += (long) b[1];
            long newerCount = total - olderCount;
            double m = 1.0 / (1.0 / olderCount + 1.0 / newerCount);
            double bound = Math.sqrt(Math.log(4.0 * total / delta) / (2 * m));
            double score = Math.abs(olderSum / olderCount - (sum - olderSum) / newerCount) / bound;
            if (score > bestScore) {
                bestScore = score;
                bestSplit = i;
            }
        }
        if (bestSplit < 0) {
            return false;
        }
        for (int i = 0; i <= bestSplit; i++) {
            dropOldest();
        }
        return true;
    }

    private void dropOldest() {
        double[] b = blocks.removeFirst();
        sum -= b[0];
        total -= (long) b[1];
    }

    /** Mean of the values in the current window. */
    public double mean() {
        return total == 0 ? 0 : sum / total;
    }

    /** Values in the current window. */
    public long width() {
        return total;
    }

    /** Changes reported so far. */
    public long detections() {
        return detections;
    }

    /** Size in bytes of {@link #encode(ByteBuffer)}. */
    public int encodedSize() {
        return 8 + 4 + 4 + 8 + 4 + 8 + 8 + 8 + 4 + blocks.size() * 16;
    }

    /** Writes the detector's whole state, to be read back by {@link #decode(ByteBuffer)}. */
    public void encode(ByteBuffer buf) {
        buf.putDouble(delta).putInt(checkEvery).putInt(maxWindow).putDouble(openSum).putInt(openCount)
                .putLong(seen).putLong(detections).putDouble(sum).putInt(blocks.size());
        for (double[] b : blocks) {
            buf.putDouble(b[0]).putDouble(b[1]);
        }
    }

    public static DriftDetector decode(ByteBuffer buf) {
        DriftDetector d = new DriftDetector(buf.getDouble(), buf.getInt(), buf.getInt());
        d.openSum = buf.getDouble();
        d.openCount = buf.getInt();
        d.seen = buf.getLong();
        d.detections = buf.getLong();
        d.sum = buf.getDouble();
        int n = buf.getInt();
        d.total = d.openCount;
        for (int i = 0; i < n; i++) {
            double[] b = {buf.getDouble(), buf.getDouble()};
            d.blocks.addLast(b);
            d.total += (long) b[1];
        }
        return d;
    }
}
