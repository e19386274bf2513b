package io.headwater.trainer;

import io.micrometer.core.instrument.Counter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorRecordContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * The trainer's state store: live task states between commits, encoded once per commit.
 *
 * <p>A {@link #put} keeps a reference to the (mutable) state and encodes nothing; {@link #flushCache()},
 * which Kafka Streams calls on every commit before the transaction commits (as it does for its own
 * record caches, {@link CachedStateStore}), encodes each state put
 * since the last one into the inner, changelogged RocksDB store: one changelog record per dirty
 * state per commit, in the same transaction as the input offsets. So a crash between commits
 * restores exactly the states of the committed offsets, as with a plain store, but a busy task
 * costs one encoding per commit instead of one per example. Reads see the live states first.
 *
 * <p>Deltas: a state that changed little since it was last written (a task that got a few
 * examples this commit) is written as a delta instead, under a key of its own next to the whole
 * state's ({@code <key>.d000000}, {@code .d000001}, ...): what the processor's {@link Deltas} encode
 * of what happened to it since (its examples and proposals). Reading the state back decodes the
 * whole state and replays its deltas in order, so it is the same to the bit. The deltas of a state
 * add up to at most {@code ratio} times the size of its whole state; the write that would pass that
 * writes the whole state again and deletes its deltas, in the same transaction. So a task that gets
 * one example a second writes about one example's bytes a second instead of its 0.6 MB state, and
 * a read replays at most about a state's worth of examples.
 *
 * <p>Streams hands processors a decorated store, so a processor finds this one through
 * {@link Registry} by its task id, for {@link #flushed} (a state as of the last commit),
 * {@link #onFlush} and {@link #writeDeltas}.
 *
 * <pre>{@code
 * LiveStateStore.Registry live = new LiveStateStore.Registry(wholeBytes, deltaBytes);
 * topology.addStateStore(LiveStateStore.persistent("task-state", logConfig, live), "learn");
 * LiveStateStore store = live.of(context.taskId());   // in the processor's init
 * store.writeDeltas(deltas, 1.0);
 * }</pre>
 */
final class LiveStateStore implements KeyValueStore<String, TaskState>, CachedStateStore<String, TaskState> {
    /** Most deltas after one whole state. */
    static final int MAX_DELTAS = 10_000;
    private static final String DELTA = ".d";

    private final KeyValueStore<String, byte[]> inner;
    private final Registry registry;
    private final Map<String, TaskState> dirty = new LinkedHashMap<>();
    /** What the inner store holds per state key, as far as this instance has seen it. */
    private final Map<String, Chain> chains = new java.util.HashMap<>();
    private Deltas deltas;
    private double deltaRatio;
    private InternalProcessorContext<?, ?> context;
    private TaskId taskId;
    private Runnable onFlush = () -> { };
    private long lastTimestamp;
    private long encodedBytes;

    private LiveStateStore(KeyValueStore<String, byte[]> inner, Registry registry) {
        this.inner = inner;
        this.registry = registry;
    }

    /**
     * What the processor writes as a delta and how it reads one back; the store keeps only bytes,
     * keys and sizes.
     */
    interface Deltas {
        /**
         * What happened to the state of {@code key} since it was last written, encoded; null when
         * that is not known, and the state is written whole.
         */
        byte[] since(String key);

        /** {@code base} with the deltas, in the order they were written, applied: the state they make. */
        TaskState apply(String key, TaskState base, List<byte[]> deltas);
    }

    /** A whole state's size in the inner store (0 when there is none) and its deltas' count and bytes. */
    private record Chain(int baseBytes, int count, long bytes) {
        static final Chain NONE = new Chain(0, 0, 0);
    }

    /** The stores of this trainer's tasks, by task id, for their processors. */
    static final class Registry {
        private final Map<TaskId, LiveStateStore> stores = new ConcurrentHashMap<>();
        private final Counter encodedBytes;
        private final Counter deltaBytes;

        /**
         * @param encodedBytes counts the bytes of every whole state encoded into the changelogged store
         * @param deltaBytes   counts the bytes of every delta
         */
        Registry(Counter encodedBytes, Counter deltaBytes) {
            this.encodedBytes = encodedBytes;
            this.deltaBytes = deltaBytes;
        }

        LiveStateStore of(TaskId id) {
            LiveStateStore s = stores.get(id);
            if (s == null) {
                throw new IllegalStateException("no trainer state store initialised for task " + id);
            }
            return s;
        }
    }

    /** Wraps a logged, uncached key-value store builder. */
    static StoreBuilder<LiveStateStore> builder(StoreBuilder<KeyValueStore<String, byte[]>> inner,
                                                Registry registry) {
        if (!inner.loggingEnabled()) {
            throw new IllegalArgumentException("the trainer's state store must be changelogged");
        }
        return new StoreBuilder<>() {
            @Override
            public StoreBuilder<LiveStateStore> withCachingEnabled() {
                throw new UnsupportedOperationException("the live store is its own cache");
            }

            @Override
            public StoreBuilder<LiveStateStore> withCachingDisabled() {
                return this;
            }

            @Override
            public StoreBuilder<LiveStateStore> withLoggingEnabled(Map<String, String> config) {
                inner.withLoggingEnabled(config);
                return this;
            }

            @Override
            public StoreBuilder<LiveStateStore> withLoggingDisabled() {
                throw new UnsupportedOperationException("the trainer's state store must be changelogged");
            }

            @Override
            public LiveStateStore build() {
                return new LiveStateStore(inner.build(), registry);
            }

            @Override
            public Map<String, String> logConfig() {
                return inner.logConfig();
            }

            @Override
            public boolean loggingEnabled() {
                return true;
            }

            @Override
            public String name() {
                return inner.name();
            }
        };
    }

    /** Convenience for {@link #builder}: a persistent RocksDB store of {@code name}. */
    static StoreBuilder<LiveStateStore> persistent(String name, Map<String, String> logConfig, Registry registry) {
        return builder(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name),
                org.apache.kafka.common.serialization.Serdes.String(), org.apache.kafka.common.serialization.Serdes.ByteArray())
                .withCachingDisabled().withLoggingEnabled(logConfig), registry);
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        dirty.clear();
        chains.clear();
        this.context = (InternalProcessorContext<?, ?>) context;
        this.taskId = context.taskId();
        inner.init(context, root);
        registry.stores.put(taskId, this);
    }

    /** Runs whenever the dirty states were encoded: the processor forgets what it kept to rebuild them. */
    void onFlush(Runnable r) {
        this.onFlush = r;
    }

    /**
     * Writes a changed state as a delta from now on, while its deltas add up to at most
     * {@code ratio} times its whole state (0: never).
     */
    void writeDeltas(Deltas deltas, double ratio) {
        this.deltas = deltas;
        this.deltaRatio = ratio;
    }

    /** The state of {@code key} as last encoded (null when none), without the live changes since. */
    TaskState flushed(String key) {
        return read(key, inner.get(key));
    }

    /** The key of delta {@code i} of the state of {@code key}. */
    static String deltaKey(String key, int i) {
        return key + DELTA + String.format(java.util.Locale.ROOT, "%06d", i);
    }

    /** True for the key of a delta: a state's key ends in {@code /<head type>}, which holds no dot. */
    static boolean isDelta(String key) {
        int at = key.length() - DELTA.length() - 6;
        if (at < 0 || !key.startsWith(DELTA, at) || key.indexOf('/', at) >= 0) {
            return false;
        }
        for (int i = at + DELTA.length(); i < key.length(); i++) {
            if (key.charAt(i) < '0' || key.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** The deltas of {@code key} in the inner store, in order. */
    private List<byte[]> deltasOf(String key) {
        List<byte[]> out = new java.util.ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = inner.range(deltaKey(key, 0), deltaKey(key, MAX_DELTAS))) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> kv = it.next();
                // The range also holds other tasks' keys that start alike ("<key>.d000001/lda").
                if (kv.key.equals(deltaKey(key, out.size()))) {
                    out.add(kv.value);
                }
            }
        }
        return out;
    }

    /** The state whose whole encoding is {@code base}, with its deltas replayed; null when there is none. */
    private TaskState read(String key, byte[] base) {
        if (base == null) {
            chains.put(key, Chain.NONE);
            return null;
        }
        List<byte[]> ds = deltasOf(key);
        chains.put(key, new Chain(base.length, ds.size(), ds.stream().mapToLong(d -> d.length).sum()));
        TaskState s = TaskState.decode(base);
        if (ds.isEmpty()) {
            return s;
        }
        if (deltas == null) {
            throw new IllegalStateException("the state of " + key + " has " + ds.size()
                    + " deltas but nothing to replay them with");
        }
        return deltas.apply(key, s, ds);
    }

    private Chain chain(String key) {
        Chain c = chains.get(key);
        if (c == null) {
            byte[] base = inner.get(key);
            List<byte[]> ds = base == null ? List.of() : deltasOf(key);
            c = new Chain(base == null ? 0 : base.length, ds.size(), ds.stream().mapToLong(d -> d.length).sum());
            chains.put(key, c);
        }
        return c;
    }

    /** Bytes encoded into the changelogged store so far. */
    long encodedBytes() {
        return encodedBytes;
    }

    /** States put and not yet encoded. */
    int dirtyCount() {
        return dirty.size();
    }

    /**
     * Encodes the given states now, if dirty, so that memory does not hold more live states than
     * the processor's working set; the processor forgets what it kept to rebuild them.
     */
    void spill(List<String> keys, Runnable forget) {
        if (keys.stream().noneMatch(dirty::containsKey)) {
            return;
        }
        for (String key : keys) {
            TaskState s = dirty.remove(key);
            if (s != null) {
                encodeInto(key, s);
            }
        }
        forget.run();
    }

    @Override
    public void put(String key, TaskState value) {
        if (value == null) {
            delete(key);
            return;
        }
        ProcessorRecordContext rc = context.recordContext();
        if (rc != null) {
            lastTimestamp = Math.max(lastTimestamp, rc.timestamp());
        }
        dirty.put(key, value);
    }

    @Override
    public TaskState putIfAbsent(String key, TaskState value) {
        TaskState old = get(key);
        if (old == null) {
            put(key, value);
        }
        return old;
    }

    @Override
    public void putAll(List<KeyValue<String, TaskState>> entries) {
        entries.forEach(kv -> put(kv.key, kv.value));
    }

    @Override
    public TaskState delete(String key) {
        TaskState live = dirty.remove(key);
        TaskState stored = live != null ? null : flushed(key);
        for (int i = 0; i < chain(key).count(); i++) {
            inner.delete(deltaKey(key, i));
        }
        inner.delete(key);
        chains.put(key, Chain.NONE);
        return live != null ? live : stored;
    }

    @Override
    public TaskState get(String key) {
        TaskState live = dirty.get(key);
        return live != null ? live : flushed(key);
    }

    @Override
    public KeyValueIterator<String, TaskState> range(String from, String to) {
        spill();
        return decoding(inner.range(from, to));
    }

    @Override
    public KeyValueIterator<String, TaskState> reverseRange(String from, String to) {
        spill();
        return decoding(inner.reverseRange(from, to));
    }

    @Override
    public KeyValueIterator<String, TaskState> all() {
        spill();
        return decoding(inner.all());
    }

    @Override
    public KeyValueIterator<String, TaskState> reverseAll() {
        spill();
        return decoding(inner.reverseAll());
    }

    @Override
    public <PS extends org.apache.kafka.common.serialization.Serializer<P>, P> KeyValueIterator<String, TaskState>
            prefixScan(P prefix, PS prefixKeySerializer) {
        spill();
        return decoding(inner.prefixScan(prefix, prefixKeySerializer));
    }

    @Override
    public long approximateNumEntries() {
        spill();
        return inner.approximateNumEntries();
    }

    /**
     * Encodes every dirty state into the inner store. Safe at any time: what reaches the changelog
     * is committed with the transaction the records that changed it belong to.
     */
    private void spill() {
        if (dirty.isEmpty()) {
            return;
        }
        // Outside a record (a commit), the changelog writes need a record context for their timestamp.
        ProcessorRecordContext saved = context.recordContext();
        if (saved == null) {
            context.setRecordContext(new ProcessorRecordContext(lastTimestamp, -1, -1, null, new RecordHeaders()));
        }
        try {
            dirty.forEach(this::encodeInto);
            dirty.clear();
            onFlush.run();
        } finally {
            if (saved == null) {
                context.setRecordContext(null);
            }
        }
    }

    /**
     * Called by Kafka Streams before every commit (caches are flushed then, stores only at
     * checkpoints): encodes the dirty states, so their changelog records join the transaction.
     */
    @Override
    public void flushCache() {
        spill();
    }

    /** Called when what was processed since the last commit is dropped: the live states go with it. */
    @Override
    public void clearCache() {
        dirty.clear();
        chains.clear();
    }

    /** This store forwards nothing downstream. */
    @Override
    public boolean setFlushListener(CacheFlushListener<String, TaskState> listener, boolean sendOldValues) {
        return false;
    }

    private void encodeInto(String key, TaskState state) {
        Chain c = chain(key);
        byte[] delta = deltas == null || c.baseBytes() == 0 || c.count() >= MAX_DELTAS ? null : deltas.since(key);
        // A delta as big as the whole state would cost more than the state (and could pass the
        // changelog's record limit, sized for whole states, with a large ratio).
        if (delta != null && delta.length < c.baseBytes() && c.bytes() + delta.length <= deltaRatio * c.baseBytes()) {
            inner.put(deltaKey(key, c.count()), delta);
            chains.put(key, new Chain(c.baseBytes(), c.count() + 1, c.bytes() + delta.length));
            encodedBytes += delta.length;
            registry.deltaBytes.increment(delta.length);
            return;
        }
        byte[] bytes = state.encode();
        inner.put(key, bytes);
        for (int i = 0; i < c.count(); i++) {
            inner.delete(deltaKey(key, i));
        }
        chains.put(key, new Chain(bytes.length, 0, 0));
        encodedBytes += bytes.length;
        registry.encodedBytes.increment(bytes.length);
    }

    @Override
    public void flush() {
        flushCache();
        inner.flush();
    }

    @Override
    public void close() {
        dirty.clear();
        registry.stores.remove(taskId, this);
        inner.close();
    }

    @Override
    public boolean persistent() {
        return inner.persistent();
    }

    @Override
    public boolean isOpen() {
        return inner.isOpen();
    }

    @Override
    public org.apache.kafka.streams.query.Position getPosition() {
        return inner.getPosition();
    }

    /** The inner store's states, decoded with their deltas replayed as they are read; the deltas' own keys left out. */
    private KeyValueIterator<String, TaskState> decoding(KeyValueIterator<String, byte[]> it) {
        return new KeyValueIterator<>() {
            private KeyValue<String, byte[]> next;

            private boolean advance() {
                while (next == null && it.hasNext()) {
                    KeyValue<String, byte[]> kv = it.next();
                    if (!isDelta(kv.key)) {
                        next = kv;
                    }
                }
                return next != null;
            }

            @Override
            public void close() {
                it.close();
            }

            @Override
            public String peekNextKey() {
                if (!advance()) {
                    throw new java.util.NoSuchElementException();
                }
                return next.key;
            }

            @Override
            public boolean hasNext() {
                return advance();
            }

            @Override
            public KeyValue<String, TaskState> next() {
                if (!advance()) {
                    throw new java.util.NoSuchElementException();
                }
                KeyValue<String, byte[]> kv = next;
                next = null;
                return KeyValue.pair(kv.key, read(kv.key, kv.value));
            }
        };
    }
}
