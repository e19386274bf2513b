package io.headwater.core;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A bounded, uniform sample of the examples a task has seen (reservoir sampling, Vitter's algorithm
 * R): after {@code n} offers each one is kept with probability {@code capacity / n}. Heads mix
 * replayed examples into their updates so that old classes are not forgotten. Labels are class
 * indices of the owning head. Sampling is seeded and its generator is part of the encoded state, so
 * the same offers in the same order give the same buffer and the same samples, also across an
 * encode/decode.
 *
 * <pre>{@code
 * ReplayBuffer replay = new ReplayBuffer(500, 384, 42);
 * replay.offer(embedding, classIndex);
 * for (int i : replay.sample(16)) { learnFrom(replay.embedding(i), replay.label(i)); }
 * }</pre>
 */
public final class ReplayBuffer {
    private static final int FORMAT_VERSION = 1;

    private final int capacity;
    private final int dimension;
    private long rng;
    private long seen;
    private int size;
    private float[] data;
    private int[] labels;

    /** An empty buffer keeping at most {@code capacity} embeddings of {@code dimension} values. */
    public ReplayBuffer(int capacity, int dimension, long seed) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, found " + capacity);
        }
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be >= 1, found " + dimension);
        }
        this.capacity = capacity;
        this.dimension = dimension;
        this.rng = seed;
        this.data = new float[0];
        this.labels = new int[0];
    }

    public int capacity() {
        return capacity;
    }

    public int dimension() {
        return dimension;
    }

    /** Examples held now (at most the capacity). */
    public int size() {
        return size;
    }

    /** Examples offered so far. */
    public long seen() {
        return seen;
    }

    /** Offers one example; it is copied if kept. */
    public void offer(float[] embedding, int label) {
        if (embedding.length != dimension) {
            throw new BadRecordException("embedding has " + embedding.length + " values, the replay buffer holds "
                    + dimension);
        }
        seen++;
        if (capacity == 0) {
            return;
        }
        int slot;
        if (size < capacity) {
            slot = size++;
            if (size > labels.length) {
                int grown = (int) Math.min(capacity, Math.max(16L, 2L * labels.length));
                labels = Arrays.copyOf(labels, grown);
                data = Arrays.copyOf(data, grown * dimension);
            }
        } else {
            long j = Math.floorMod(next(), seen);
            if (j >= capacity) {
                return;
            }
            slot = (int) j;
        }
        System.arraycopy(embedding, 0, data, slot * dimension, dimension);
        labels[slot] = label;
    }

    /** {@code n} indices drawn uniformly, with replacement; none when the buffer is empty. */
    public int[] sample(int n) {
        if (size == 0) {
            return new int[0];
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = (int) Math.floorMod(next(), (long) size);
        }
        return out;
    }

    /** A copy of the embedding at the index. */
    public float[] embedding(int index) {
        return Arrays.copyOfRange(data, checked(index) * dimension, (index + 1) * dimension);
    }

    /** Copies the embedding at the index into {@code out} at {@code offset}. */
    public void copyEmbedding(int index, float[] out, int offset) {
        System.arraycopy(data, checked(index) * dimension, out, offset, dimension);
    }

    public int label(int index) {
        return labels[checked(index)];
    }

    private int checked(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " of a replay buffer holding " + size);
        }
        return index;
    }

    /** Heap bytes held by the stored examples (the arrays, grown as needed up to the capacity). */
    public long memoryBytes() {
        return 4L * data.length + 4L * labels.length;
    }

    /** Heap bytes held when full: what a task costs at most. */
    public static long memoryBytesAtCapacity(int capacity, int dimension) {
        return 4L * capacity * dimension + 4L * capacity;
    }

    /** SplitMix64: a tiny generator whose whole state is one long, so it encodes with the buffer. */
    private long next() {
        long z = (rng += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Size in bytes of {@link #encode(ByteBuffer)}. */
    public int encodedSize() {
        return 4 + 4 + 4 + 8 + 8 + 4 + size * (4 + 4 * dimension);
    }

    /** Writes the buffer (float32 embeddings) in the buffer's byte order. */
    public void encode(ByteBuffer buf) {
        buf.putInt(FORMAT_VERSION).putInt(capacity).putInt(dimension).putLong(rng).putLong(seen).putInt(size);
        for (int i = 0; i < size; i++) {
            buf.putInt(labels[i]);
        }
        buf.asFloatBuffer().put(data, 0, size * dimension);
        buf.position(buf.position() + 4 * size * dimension);
    }

    /** Reads a buffer written by {@link #encode(ByteBuffer)}. */
    public static ReplayBuffer decode(ByteBuffer buf) {
        int version = buf.getInt();
        if (version != FORMAT_VERSION) {
            throw new BadRecordException("unsupported replay buffer format version " + version);
        }
        int capacity = buf.getInt();
        int dimension = buf.getInt();
        if (capacity < 0 || dimension < 1) {
            throw new BadRecordException("replay buffer of capacity " + capacity + " and dimension " + dimension);
        }
        ReplayBuffer r = new ReplayBuffer(capacity, dimension, buf.getLong());
        r.seen = buf.getLong();
        int size = buf.getInt();
        if (size < 0 || size > capacity || (long) size * (4 + 4L * dimension) > buf.remaining()) {
            throw new BadRecordException("replay buffer size " + size + " does not fit capacity " + capacity
                    + " and the " + buf.remaining() + " bytes left");
        }
        r.size = size;
        r.labels = new int[size];
        for (int i = 0; i < size; i++) {
            r.labels[i] = buf.getInt();
        }
        r.data = new float[size * dimension];
        buf.asFloatBuffer().get(r.data);
        buf.position(buf.position() + 4 * r.data.length);
        return r;
    }
}
