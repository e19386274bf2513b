package io.headwater.core;

import java.nio.ByteBuffer;

/**
 * Accuracy over the last {@code size} test-then-train predictions: a ring of hits and misses.
 *
 * <pre>{@code
 * WindowedAccuracy acc = new WindowedAccuracy(500);
 * acc.record(predicted.equals(label));
 * double a = acc.accuracy();
 * }</pre>
 */
public final class WindowedAccuracy {
    private final boolean[] ring;
    private int next;
    private int filled;
    private int hits;

    public WindowedAccuracy(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("window size must be >= 1, found " + size);
        }
        this.ring = new boolean[size];
    }

    public void record(boolean correct) {
        if (filled == ring.length) {
            if (ring[next]) {
                hits--;
            }
        } else {
            filled++;
        }
        ring[next] = correct;
        if (correct) {
            hits++;
        }
        next = (next + 1) % ring.length;
    }

    /** Hits over predictions in the window; 0 when empty. */
    public double accuracy() {
        return filled == 0 ? 0 : (double) hits / filled;
    }

    /** Predictions in the window (at most {@link #size()}). */
    public int count() {
        return filled;
    }

    public int size() {
        return ring.length;
    }

    public int encodedSize() {
        return 4 + 4 + 4 + ring.length;
    }

    public void encode(ByteBuffer buf) {
        buf.putInt(ring.length).putInt(next).putInt(filled);
        for (boolean b : ring) {
            buf.put((byte) (b ? 1 : 0));
        }
    }

    public static WindowedAccuracy decode(ByteBuffer buf) {
        WindowedAccuracy w = new WindowedAccuracy(buf.getInt());
        w.next = buf.getInt();
        w.filled = buf.getInt();
        for (int i = 0; i < w.ring.length; i++) {
            w.ring[i] = buf.get() == 1;
            if (w.ring[i]) {
                w.hits++;
            }
        }
        return w;
    }
}
