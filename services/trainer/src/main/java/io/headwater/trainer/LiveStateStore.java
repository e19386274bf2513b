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
 * <p>Streams hands processors a decorated store, so a processor finds this one through
 * {@link Registry} by its task id, for {@link #flushed} (a state as of the last commit) and
 * {@link #onFlush}.
 *
 * <pre>{@code
 * LiveStateStore.Registry live = new LiveStateStore.Registry(counter);
 * topology.addStateStore(LiveStateStore.persistent("task-state", logConfig, live), "learn");
 * LiveStateStore store = live.of(context.taskId());   // in the processor's init
 * }</pre>
 */
final class LiveStateStore implements KeyValueStore<String, TaskState>, CachedStateStore<String, TaskState> {
    private final KeyValueStore<String, byte[]> inner;
    private final Registry registry;
    private final Map<String, TaskState> dirty = new LinkedHashMap<>();
    private InternalProcessorContext<?, ?> context;
    private TaskId taskId;
    private Runnable onFlush = () -> { };
    private long lastTimestamp;
    private long encodedBytes;

    private LiveStateStore(KeyValueStore<String, byte[]> inner, Registry registry) {
        this.inner = inner;
        this.registry = registry;
    }

    /** The stores of this trainer's tasks, by task id, for their processors. */
    static final class Registry {
        private final Map<TaskId, LiveStateStore> stores = new ConcurrentHashMap<>();
        private final Counter encodedBytes;

        /** @param encodedBytes counts the bytes of every state encoded into the changelogged store */
        Registry(Counter encodedBytes) {
            this.encodedBytes = encodedBytes;
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
        this.context = (InternalProcessorContext<?, ?>) context;
        this.taskId = context.taskId();
        inner.init(context, root);
        registry.stores.put(taskId, this);
    }

    /** Runs whenever the dirty states were encoded: the processor forgets what it kept to rebuild them. */
    void onFlush(Runnable r) {
        this.onFlush = r;
    }

    /** The state of {@code key} as last encoded (null when none), without the live changes since. */
    TaskState flushed(String key) {
        return decode(inner.get(key));
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
        TaskState stored = decode(inner.delete(key));
        return live != null ? live : stored;
    }

    @Override
    public TaskState get(String key) {
        TaskState live = dirty.get(key);
        return live != null ? live : decode(inner.get(key));
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
    }

    /** This store forwards nothing downstream. */
    @Override
    public boolean setFlushListener(CacheFlushListener<String, TaskState> listener, boolean sendOldValues) {
        return false;
    }

    private void encodeInto(String key, TaskState state) {
        byte[] bytes = state.encode();
        encodedBytes += bytes.length;
        registry.encodedBytes.increment(bytes.length);
        inner.put(key, bytes);
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

    private static TaskState decode(byte[] b) {
        return b == null ? null : TaskState.decode(b);
    }

    /** The inner store's entries, decoded as they are read. */
    private static KeyValueIterator<String, TaskState> decoding(KeyValueIterator<String, byte[]> it) {
        return new KeyValueIterator<>() {
            @Override
            public void close() {
                it.close();
            }

            @Override
            public String peekNextKey() {
                return it.peekNextKey();
            }

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public KeyValue<String, TaskState> next() {
                KeyValue<String, byte[]> kv = it.next();
                return KeyValue.pair(kv.key, decode(kv.value));
            }
        };
    }
}
