package io.headwater.trainer;

import io.headwater.core.DriftDetector;
import io.headwater.core.Head;
import io.headwater.core.HeadType;
import io.headwater.core.HeadArtifact;
import io.headwater.core.WindowedAccuracy;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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
import org.apache.kafka.streams.state.KeyValueStore;
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
 * <p>Working copies of recently used states stay in memory; every update is also put to the
 * (cached, changelogged) store, whose cache sends at most one changelog write per state per commit.
 */
final class LearnProcessor implements Processor<String, FeatureRecord, String, ModelCandidate> {
    private static final Logger LOG = LoggerFactory.getLogger(LearnProcessor.class);
    static final int WORKING_SET = 256;

    private final TrainerConfig config;
    private final List<HeadType> types;
    private final TrainerMetrics metrics;
    private final String configDigest;
    private ProcessorContext<String, ModelCandidate> context;
    private KeyValueStore<String, TaskState> store;
    private final Map<String, TaskState> working = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TaskState> eldest) {
            if (size() <= WORKING_SET * types.size()) {
                return false;
            }
            // Its state is in the store already; remember it if it still owes a time-triggered candidate.
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

    /** @param metrics shared by every processor instance (one per stream task) */
    LearnProcessor(TrainerConfig config, TrainerMetrics metrics) {
        this.config = config;
        this.types = config.headTypes();
        this.metrics = metrics;
        this.configDigest = HeadArtifact.sha256((types + "|" + config.headOptions() + "|drift " + config.driftDelta()
                + " " + config.driftAdapts()).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void init(ProcessorContext<String, ModelCandidate> context) {
        this.context = context;
        this.store = context.getStateStore(TrainerTopology.STATE_STORE);
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
    public void process(Record<String, FeatureRecord> record) {
        String task = record.key();
        FeatureRecord f = record.value();
        if (task == null || f == null) {
            metrics.rejected().increment();
            return;
        }
        for (HeadType type : types) {
            if (!learn(task, type, f, record.timestamp())) {
                return;
            }
        }
    }

    /** Tests, then trains one head on one record; false when the record does not fit the task's backbone. */
    private boolean learn(String task, HeadType type, FeatureRecord f, long timestamp) {
        String key = TaskState.key(task, type);
        TaskState state = state(key, task, type, f);
        if (!state.backbone.sha256().equals(f.backboneSha256()) || state.backbone.dimension() != f.embedding().length) {
            String where = context.recordMetadata().map(m -> m.topic() + "-" + m.partition() + "@" + m.offset())
                    .orElse("?");
            LOG.warn("Skipping feature record {} of task {}: backbone {} ({} dims) but the task learns from {} ({} dims)",
                    where, task, f.backboneId(), f.embedding().length, state.backbone.id(), state.backbone.dimension());
            metrics.rejected().increment();
            return false;
        }
        TrainerMetrics.PerHead meters = metrics.of(type);
        Optional<String> predicted = state.head.predict(f.embedding());
        boolean hit = predicted.isPresent() && predicted.get().equals(f.label());
        state.window.record(hit);
        double errorBefore = state.drift.mean();
        // A change the detector reports is drift only when the error rate rose; a fall is the head
        // learning (a young head) or recovering (after a change), and is not answered.
        if (predicted.isPresent() && state.drift.add(hit ? 0 : 1) && state.drift.mean() > errorBefore) {
            drift(state, meters);
        }
        state.head.learn(f.embedding(), f.label());
        context.recordMetadata().ifPresent(m -> state.featureOffsets.put(m.partition(), m.offset()));
        if (state.examplesSinceCandidate == 0) {
            state.oldestUnproposedAtMs = timestamp;
        }
        state.examplesSinceCandidate++;
        meters.examples().increment();
        if (hit) {
            meters.correct().increment();
        }
        if (state.examplesSinceCandidate >= config.candidateEveryExamples()) {
            propose(state, context.currentSystemTimeMs());
        }
        store.put(key, state);
        return true;
    }

    private void drift(TaskState state, TrainerMetrics.PerHead meters) {
        state.lastDriftAt = state.head.examplesLearned();
        state.driftDetections++;
        meters.drift().increment();
        LOG.warn("Drift in task {} ({} head) after {} examples: error rate now {} over the last {} predictions{}",
                state.task, state.head.type().id(), state.lastDriftAt,
                String.format(Locale.ROOT, "%.3f", state.drift.mean()), state.drift.width(),
                config.driftAdapts() ? "; adapting the head" : "");
        if (config.driftAdapts()) {
            state.head.reactToDrift();
        }
    }

    private TaskState state(String key, String task, HeadType type, FeatureRecord f) {
        TaskState s = working.get(key);
        if (s == null) {
            pending.remove(key);
            s = store.get(key);
            if (s == null) {
                Head head = type.create(f.embedding().length, config.headOptions());
                s = new TaskState(task, head, new WindowedAccuracy(config.accuracyWindow()),
                        new DriftDetector(config.driftDelta(), 32, 10_000),
                        new BackboneRef(f.backboneId(), f.backboneSha256(), f.embedding().length), new TreeMap<>(),
                        0, context.currentSystemTimeMs());
                LOG.info("New task {}: {} head on backbone {} ({} dims)", task, head.type().id(), f.backboneId(),
                        f.embedding().length);
            }
            working.put(key, s);
        }
        return s;
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
        HeadArtifact artifact = s.head.export();
        Map<String, Long> offsets = new TreeMap<>();
        s.featureOffsets.forEach((p, o) -> offsets.put(Integer.toString(p), o));
        ModelCandidate c = new ModelCandidate(ModelCandidate.FORMAT_VERSION, s.task, s.head.type().id(),
                artifact.labels(), s.backbone, Base64.getEncoder().encodeToString(artifact.encode()),
                new ModelMetrics(s.head.examplesLearned(), s.window.accuracy(), s.window.size(), s.window.count(),
                        s.driftDetections, s.lastDriftAt),
                offsets, config.applicationId(), Instant.ofEpochMilli(now).toString(),
                Instant.ofEpochMilli(s.oldestUnproposedAtMs).toString(), configDigest);
        context.forward(new Record<>(s.task, c, now));
        s.examplesSinceCandidate = 0;
        s.lastCandidateAtMs = now;
        metrics.of(s.head.type()).candidates().increment();
        metrics.accuracy(s.task, s.head.type(), s.window.accuracy());
        LOG.debug("Proposed {} head for task {}: {} examples, windowed accuracy {}", c.headType(), s.task,
                c.metrics().examplesLearned(), c.metrics().windowedAccuracy());
    }
}
