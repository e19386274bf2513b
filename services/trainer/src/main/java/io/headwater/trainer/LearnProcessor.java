package io.headwater.trainer;

import io.headwater.core.BadRecordException;
import io.headwater.core.DriftDetector;
import io.headwater.core.Head;
import io.headwater.core.HeadType;
import io.headwater.core.HeadArtifact;
import io.headwater.core.WindowedAccuracy;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.Faults;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.KafkaErrors;
import io.headwater.kafka.RepeatedWarnings;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test, then train: each feature record is first predicted by each of its task's heads (one per
 * configured head type: challengers), scored in that head's window and drift detector, then learned
 * from. A candidate version is forwarded per head every N examples of a task, or when T has passed
 * (wall clock) and the head has learned something new since its last one. A change reported by the
 * drift detector is counted, logged, recorded in the next candidate and, with
 * {@code trainer.drift.reaction=adapt}, answered by the head's own reaction.
 *
 * <p>Working copies of recently used states stay in memory; every update is put to the
 * {@link LiveStateStore}, which keeps it live and encodes each changed state once per commit into
 * its changelogged store. The processor keeps what happened to each task since its states were
 * last written ({@link Event}): replayed, without side effects, onto the states as of then, it takes
 * a task back to its state before a record (a head that throws); encoded, it is the delta the store
 * writes instead of a state that changed little ({@link Replay}).
 *
 * <p>A record that cannot be learned from goes to {@code features.dlq} with its reason, counted in
 * {@code headwater.trainer.dlq{reason}}, and the stream goes on: no task key ({@code key}), no value
 * ({@code empty}), undecodable ({@code decode}), a NaN or infinity ({@code non_finite}), another
 * backbone or width than the task's ({@code backbone}, {@code dimension}), an example id the task
 * learned within {@code trainer.dedup.retention.ms} ({@code duplicate}), a head that throws on it
 * ({@code head}: every head of the task goes on from its state before that record, reloaded from the
 * store) and a stored state that cannot be read ({@code state}).
 */
final class LearnProcessor implements Processor<byte[], byte[], Object, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(LearnProcessor.class);
    static final int WORKING_SET = 256;

    private final TrainerConfig config;
    private final List<HeadType> types;
    private final TrainerMetrics metrics;
    private final String configDigest;
    private final int dlqMaxBytes;
    private final RepeatedWarnings warnings = new RepeatedWarnings(LOG, "headwater_trainer_dlq_total");
    private ProcessorContext<Object, Object> context;
    private final LiveStateStore.Registry stores;
    private LiveStateStore store;
    /** What changed each task's states since the last commit, in order; cleared on every commit. */
    private final Map<String, List<Event>> events = new java.util.HashMap<>();
    /** Example ids learned, per task, with when; absent when deduplication is off. */
    private WindowStore<String, Long> seen;
    private final Map<String, TaskState> working = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TaskState> eldest) {
            if (size() <= WORKING_SET * types.size()) {
                return false;
            }
            // Its state goes to the store (encoded now if it changed since the last commit, so that no
            // more than the working set is held live); remember it if it owes a time-triggered candidate.
            String task = eldest.getValue().task;
            store.spill(types.stream().map(t -> TaskState.key(task, t)).toList(), () -> events.remove(task));
            if (eldest.getValue().examplesSinceCandidate > 0) {
                pending.put(eldest.getKey(), eldest.getValue().lastCandidateAtMs);
            }
            return true;
        }
    };
    /**
     * States outside the working set that have examples not yet proposed, with when their last
     * candidate was: loaded back from the store only when their time-triggered candidate is due.
     */
    private final Map<String, Long> pending = new LinkedHashMap<>();

    /**
     * @param metrics     shared by every processor instance (one per stream task)
     * @param dlqMaxBytes the most a dead letter may take on {@code features.dlq}
     */
    LearnProcessor(TrainerConfig config, TrainerMetrics metrics, int dlqMaxBytes, LiveStateStore.Registry stores) {
        this.config = config;
        this.stores = stores;
        this.dlqMaxBytes = dlqMaxBytes;
        this.types = config.headTypes();
        this.metrics = metrics;
        this.configDigest = HeadArtifact.sha256((types + "|" + config.headOptions() + "|drift " + config.driftDelta()
                + " " + config.driftAdapts()).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.store = stores.of(context.taskId());
        events.clear();
        store.onFlush(events::clear);
        store.writeDeltas(new Replay(), config.stateDeltaRatio());
        this.seen = config.dedupRetentionMs() > 0 ? context.getStateStore(TrainerTopology.SEEN_STORE) : null;
        working.clear();
        pending.clear();
        // Heads with examples not yet proposed (a restart between learning and proposing) must still
        // get their time-triggered candidate.
        try (KeyValueIterator<String, TaskState> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, TaskState> kv = it.next();
                if (kv.value.examplesSinceCandidate > 0) {
                    pending.put(kv.key, kv.value.lastCandidateAtMs);
                }
            }
        }
        long every = Math.min(1_000, config.candidateEveryMs());
        context.schedule(Duration.ofMillis(every), PunctuationType.WALL_CLOCK_TIME, this::proposeDue);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        Faults.hit("trainer.process");
        if (record.key() == null || record.key().length == 0) {
            deadLetter(record, "key", "feature record without a task key");
            return;
        }
        String task = new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            deadLetter(record, "empty", "feature record of task '" + task + "' without a value");
            return;
        }
        FeatureRecord f;
        try {
            f = FeatureRecord.decode(record.value());
        } catch (FeatureRecord.NonFinite e) {
            deadLetter(record, "non_finite", e.getMessage());
            return;
        } catch (BadRecordException e) {
            deadLetter(record, "decode", e.getMessage());
            return;
        }
        String seenKey = task + '\u0000' + f.exampleId();
        if (seen != null && learnedBefore(seenKey, record.timestamp())) {
            deadLetter(record, "duplicate", "example '" + f.exampleId() + "' of task '" + task
                    + "' was learned already (within trainer.dedup.retention.ms)");
            return;
        }
        long now = context.currentSystemTimeMs();
        List<TaskState> states = new ArrayList<>(types.size());
        for (HeadType type : types) {
            TaskState state;
            try {
                state = state(TaskState.key(task, type), task, type, f, now);
            } catch (BadRecordException e) {
                deadLetter(record, "state", "the stored state of task '" + task + "' (" + type.id()
                        + " head) cannot be read: " + e.getMessage());
                return;
            }
            if (!state.backbone.sha256().equals(f.backboneSha256())) {
                deadLetter(record, "backbone", "feature of backbone " + f.backboneId() + " (sha256 "
                        + f.backboneSha256() + ") but task '" + task + "' learns from " + state.backbone.id()
                        + " (sha256 " + state.backbone.sha256() + ")");
                return;
            }
            if (state.backbone.dimension() != f.embedding().length) {
                deadLetter(record, "dimension", "feature has " + f.embedding().length + " dimensions but task '"
                        + task + "' learns from " + state.backbone.dimension());
                return;
            }
            states.add(state);
        }
        int partition = context.recordMetadata().map(m -> m.partition()).orElse(-1);
        long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
        List<Boolean> hits = new ArrayList<>(types.size());
        try {
            for (TaskState state : states) {
                long t0 = System.nanoTime();
                hits.add(testThenTrain(state, f, record.timestamp(), partition, offset, true));
                metrics.of(state.head.type()).learnSeconds().increment((System.nanoTime() - t0) / 1e9);
            }
        } catch (RuntimeException e) {
            // A head that fails on one record (the boundary of pluggable head code): every head of
            // the task goes on from its state before this record.
            revert(task);
            deadLetter(record, "head", "a head of task '" + task + "' failed on this record: "
                    + KafkaErrors.describe(e));
            return;
        }
        events.computeIfAbsent(task, t -> new ArrayList<>()).add(new Learned(f, record.value(), record.timestamp(),
                partition, offset, now));
        for (int i = 0; i < states.size(); i++) {
            TaskState state = states.get(i);
            TrainerMetrics.PerHead meters = metrics.of(state.head.type());
            meters.examples().increment();
            if (hits.get(i)) {
                meters.correct().increment();
            }
            if (state.examplesSinceCandidate >= config.candidateEveryExamples()) {
                propose(state, now);
            }
            store.put(TaskState.key(task, state.head.type()), state);
        }
        if (seen != null) {
            seen.put(seenKey, record.timestamp(), record.timestamp());
        }
    }

    private boolean learnedBefore(String seenKey, long timestamp) {
        long retention = config.dedupRetentionMs();
        try (WindowStoreIterator<Long> it = seen.fetch(seenKey, Math.max(0, timestamp - retention),
                timestamp + retention)) {
            return it.hasNext();
        }
    }

    /**
     * Tests, then trains one head on one record; true when the head predicted its label. Live, it
     * also counts and logs; replaying ({@code live} false), it changes the state exactly as it did.
     */
    private boolean testThenTrain(TaskState state, FeatureRecord f, long timestamp, int partition, long offset,
                                  boolean live) {
        if (live) {
            Faults.hit("trainer.learn");
        }
        Optional<String> predicted = state.head.predict(f.embedding());
        boolean hit = predicted.isPresent() && predicted.get().equals(f.label());
        state.window.record(hit);
        double errorBefore = state.drift.mean();
        // A change the detector reports is drift only when the error rate rose; a fall is the head
        // learning (a young head) or recovering (after a change), and is not answered.
        if (predicted.isPresent() && state.drift.add(hit ? 0 : 1) && state.drift.mean() > errorBefore) {
            drift(state, live);
        }
        state.head.learn(f.embedding(), f.label());
        if (partition >= 0) {
            state.featureOffsets.put(partition, offset);
        }
        if (state.examplesSinceCandidate == 0) {
            state.oldestUnproposedAtMs = timestamp;
        }
        state.examplesSinceCandidate++;
        return hit;
    }

    /** Sends a record the trainer cannot learn from to features.dlq, with why and where. */
    private void deadLetter(Record<byte[], byte[]> record, String reason, String message) {
        String topic = context.recordMetadata().map(m -> m.topic()).orElse("?");
        int partition = context.recordMetadata().map(m -> m.partition()).orElse(-1);
        long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
        warnings.warn(reason, "Dead-lettering feature record {}-{}@{} ({}): {}", topic, partition, offset, reason,
                message);
        metrics.deadLetter(reason).increment();
        DeadLetters.Letter letter = DeadLetters.letter(record.key(), record.value(), record.headers(), topic, partition,
                offset, reason, message, dlqMaxBytes);
        context.forward(new Record<Object, Object>(letter.key(), letter.value(), record.timestamp(), letter.headers()),
                TrainerTopology.DLQ_SINK);
    }

    private void drift(TaskState state, boolean live) {
        state.lastDriftAt = state.head.examplesLearned();
        state.driftDetections++;
        if (live) {
            metrics.of(state.head.type()).drift().increment();
            LOG.warn("Drift in task {} ({} head) after {} examples: error rate now {} over the last {} predictions{}",
                state.task, state.head.type().id(), state.lastDriftAt,
                String.format(Locale.ROOT, "%.3f", state.drift.mean()), state.drift.width(),
                config.driftAdapts() ? "; adapting the head" : "");
        }
        if (config.driftAdapts()) {
            state.head.reactToDrift();
        }
    }

    private TaskState state(String key, String task, HeadType type, FeatureRecord f, long now) {
        TaskState s = working.get(key);
        if (s == null) {
            pending.remove(key);
            s = store.get(key);
            if (s == null) {
                s = newState(task, type, f, now);
                LOG.info("New task {}: {} head on backbone {} ({} dims)", task, type.id(), f.backboneId(),
                        f.embedding().length);
            }
            working.put(key, s);
        }
        return s;
    }

    private TaskState newState(String task, HeadType type, FeatureRecord f, long now) {
        Head head = type.create(f.embedding().length, config.headOptions());
        return new TaskState(task, head, new WindowedAccuracy(config.accuracyWindow()),
                new DriftDetector(config.driftDelta(), 32, 10_000),
                new BackboneRef(f.backboneId(), f.backboneSha256(), f.embedding().length), new TreeMap<>(), 0, now);
    }

    /** What changed a task's states since they were last written: an example learned, or a candidate proposed. */
    private sealed interface Event permits Learned, Proposed {
    }

    /** An example every head of the task learned ({@code value}: its record as it came), at processing time {@code now}. */
    private record Learned(FeatureRecord f, byte[] value, long timestamp, int partition, long offset, long now)
            implements Event {
    }

    /** A candidate proposed (or its export failed) for the state of {@code key} at {@code now}. */
    private record Proposed(String key, long now) implements Event {
    }

    /**
     * A state's events since it was last written, as the delta the store writes instead of the
     * whole state, and the same events replayed onto the state they followed when it is read back.
     * A delta holds each example learned (its feature record as it came, record time, partition,
     * offset and processing time) and each candidate proposed for this head (processing time).
     */
    private final class Replay implements LiveStateStore.Deltas {
        private static final byte VERSION = 1;
        private static final byte LEARNED = 'L';
        private static final byte PROPOSED = 'P';

        @Override
        public byte[] since(String key) {
            List<Event> es = events.get(key.substring(0, key.lastIndexOf('/')));
            if (es == null) {
                return null;
            }
            int size = 1 + 4;
            int n = 0;
            for (Event e : es) {
                if (e instanceof Learned l) {
                    size += 1 + 8 + 4 + 8 + 8 + 4 + l.value().length;
                    n++;
                } else if (e instanceof Proposed p && p.key().equals(key)) {
                    size += 1 + 8;
                    n++;
                }
            }
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(size).put(VERSION).putInt(n);
            for (Event e : es) {
                if (e instanceof Learned l) {
                    buf.put(LEARNED).putLong(l.timestamp()).putInt(l.partition()).putLong(l.offset()).putLong(l.now())
                            .putInt(l.value().length).put(l.value());
                } else if (e instanceof Proposed p && p.key().equals(key)) {
                    buf.put(PROPOSED).putLong(p.now());
                }
            }
            return buf.array();
        }

        @Override
        public TaskState apply(String key, TaskState base, List<byte[]> deltas) {
            for (byte[] d : deltas) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(d);
                if (buf.get() != VERSION) {
                    throw new BadRecordException("delta of " + key + " in an unknown format version " + d[0]);
                }
                for (int i = 0, n = buf.getInt(); i < n; i++) {
                    byte kind = buf.get();
                    if (kind == LEARNED) {
                        long timestamp = buf.getLong();
                        int partition = buf.getInt();
                        long offset = buf.getLong();
                        buf.getLong();
                        byte[] b = new byte[buf.getInt()];
                        buf.get(b);
                        testThenTrain(base, FeatureRecord.decode(b), timestamp, partition, offset, false);
                    } else if (kind == PROPOSED) {
                        proposed(base, buf.getLong());
                    } else {
                        throw new BadRecordException("delta of " + key + " holds an unknown event " + kind);
                    }
                }
            }
            return base;
        }
    }

    /**
     * Takes every head of the task back to its state before the record being processed: the states
     * as last written, with the task's events since then replayed onto them.
     */
    private void revert(String task) {
        Map<HeadType, TaskState> states = new LinkedHashMap<>();
        for (HeadType type : types) {
            String key = TaskState.key(task, type);
            working.remove(key);
            TaskState s = store.flushed(key);
            if (s != null) {
                states.put(type, s);
            }
        }
        for (Event e : events.getOrDefault(task, List.of())) {
            if (e instanceof Learned l) {
                for (HeadType type : types) {
                    TaskState s = states.computeIfAbsent(type, t -> newState(task, t, l.f(), l.now()));
                    testThenTrain(s, l.f(), l.timestamp(), l.partition(), l.offset(), false);
                }
            } else if (e instanceof Proposed p) {
                TaskState s = states.get(HeadType.of(p.key().substring(p.key().lastIndexOf('/') + 1)));
                if (s != null) {
                    proposed(s, p.now());
                }
            }
        }
        for (HeadType type : types) {
            String key = TaskState.key(task, type);
            TaskState s = states.get(type);
            if (s == null) {
                store.delete(key);
            } else {
                store.put(key, s);
                working.put(key, s);
            }
        }
    }

    /** What proposing does to a state, whether or not its export worked. */
    private static void proposed(TaskState s, long now) {
        s.examplesSinceCandidate = 0;
        s.lastCandidateAtMs = now;
    }

    private void proposeDue(long now) {
        for (Map.Entry<String, TaskState> e : working.entrySet().toArray(Map.Entry[]::new)) {
            TaskState s = e.getValue();
            if (s.examplesSinceCandidate > 0 && now - s.lastCandidateAtMs >= config.candidateEveryMs()) {
                propose(s, now);
                store.put(e.getKey(), s);
            }
        }
        for (Map.Entry<String, Long> e : pending.entrySet().toArray(Map.Entry[]::new)) {
            if (now - e.getValue() < config.candidateEveryMs()) {
                continue;
            }
            pending.remove(e.getKey());
            TaskState s = store.get(e.getKey());
            if (s != null && s.examplesSinceCandidate > 0) {
                propose(s, now);
                store.put(e.getKey(), s);
            }
        }
    }

    private void propose(TaskState s, long now) {
        HeadArtifact artifact;
        long t0 = System.nanoTime();
        try {
            artifact = s.head.export();
            metrics.of(s.head.type()).exportSeconds().increment((System.nanoTime() - t0) / 1e9);
        } catch (RuntimeException e) {
            // Pluggable head code again: no candidate this time, the next one is due after N more
            // examples or T, and learning goes on.
            proposed(s, now);
            events.computeIfAbsent(s.task, t -> new ArrayList<>()).add(new Proposed(TaskState.key(s.task,
                    s.head.type()), now));
            metrics.of(s.head.type()).candidatesFailed().increment();
            warnings.warn("export", "Could not export the {} head of task {}: {}", s.head.type().id(), s.task,
                    KafkaErrors.describe(e));
            return;
        }
        Map<String, Long> offsets = new TreeMap<>();
        s.featureOffsets.forEach((p, o) -> offsets.put(Integer.toString(p), o));
        ModelCandidate c = new ModelCandidate(ModelCandidate.FORMAT_VERSION, s.task, s.head.type().id(),
                artifact.labels(), s.backbone, Base64.getEncoder().encodeToString(artifact.encode()),
                new ModelMetrics(s.head.examplesLearned(), s.window.accuracy(), s.window.size(), s.window.count(),
                        s.driftDetections, s.lastDriftAt),
                offsets, config.applicationId(), Instant.ofEpochMilli(now).toString(),
                Instant.ofEpochMilli(s.oldestUnproposedAtMs).toString(), configDigest);
        context.forward(new Record<Object, Object>(s.task, c, now), TrainerTopology.CANDIDATES_SINK);
        proposed(s, now);
        events.computeIfAbsent(s.task, t -> new ArrayList<>()).add(new Proposed(TaskState.key(s.task, s.head.type()),
                now));
        metrics.of(s.head.type()).candidates().increment();
        metrics.accuracy(s.task, s.head.type(), s.window.accuracy());
        LOG.debug("Proposed {} head for task {}: {} examples, windowed accuracy {}", c.headType(), s.task,
                c.metrics().examplesLearned(), c.metrics().windowedAccuracy());
    }
}
