package io.headwater.trainer;

import io.headwater.core.Head;
import io.headwater.core.HeadArtifact;
import io.headwater.core.WindowedAccuracy;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
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
 * Test, then train: each feature record is first predicted by its task's current head, scored in
 * the task's window, then learned from. A candidate version is forwarded every N examples of a task,
 * or when T has passed (wall clock) and the task has learned something new since the last one.
 *
 * <p>Working copies of recently used task states stay in memory; every update is also put to the
 * (cached, changelogged) store, whose cache sends at most one changelog write per task per commit.
 */
final class LearnProcessor implements Processor<String, FeatureRecord, String, ModelCandidate> {
    private static final Logger LOG = LoggerFactory.getLogger(LearnProcessor.class);
    private static final int WORKING_SET = 256;

    private final TrainerConfig config;
    private final MeterRegistry registry;
    private final Counter examples;
    private final Counter correct;
    private final Counter candidates;
    private final Counter rejected;
    private ProcessorContext<String, ModelCandidate> context;
    private KeyValueStore<String, TaskState> store;
    private final Map<String, TaskState> working = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TaskState> eldest) {
            return size() > WORKING_SET && eldest.getValue().examplesSinceCandidate == 0;
        }
    };

    LearnProcessor(TrainerConfig config, MeterRegistry registry) {
        this.config = config;
        this.registry = registry;
        this.examples = Counter.builder("headwater.trainer.examples").description("Examples learned")
                .baseUnit("examples").register(registry);
        this.correct = Counter.builder("headwater.trainer.predictions.correct")
                .description("Test-then-train predictions that were right").register(registry);
        this.candidates = Counter.builder("headwater.trainer.candidates").description("Candidate versions proposed")
                .register(registry);
        this.rejected = Counter.builder("headwater.trainer.features.rejected")
                .description("Feature records skipped (backbone or dimension mismatch)").register(registry);
    }

    @Override
    public void init(ProcessorContext<String, ModelCandidate> context) {
        this.context = context;
        this.store = context.getStateStore(TrainerTopology.STATE_STORE);
        working.clear();
        // Tasks with examples not yet proposed (a restart between learning and proposing) must still
        // get their time-triggered candidate.
        try (KeyValueIterator<String, TaskState> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, TaskState> kv = it.next();
                if (kv.value.examplesSinceCandidate > 0) {
                    working.put(kv.key, kv.value);
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
            rejected.increment();
            return;
        }
        TaskState state = state(task, f);
        if (!state.backbone.sha256().equals(f.backboneSha256()) || state.backbone.dimension() != f.embedding().length) {
            String where = context.recordMetadata().map(m -> m.topic() + "-" + m.partition() + "@" + m.offset())
                    .orElse("?");
            LOG.warn("Skipping feature record {} of task {}: backbone {} ({} dims) but the task learns from {} ({} dims)",
                    where, task, f.backboneId(), f.embedding().length, state.backbone.id(), state.backbone.dimension());
            rejected.increment();
            return;
        }
        Optional<String> predicted = state.head.predict(f.embedding());
        boolean hit = predicted.isPresent() && predicted.get().equals(f.label());
        state.window.record(hit);
        state.head.learn(f.embedding(), f.label());
        context.recordMetadata().ifPresent(m -> state.featureOffsets.put(m.partition(), m.offset()));
        state.examplesSinceCandidate++;
        examples.increment();
        if (hit) {
            correct.increment();
        }
        if (state.examplesSinceCandidate >= config.candidateEveryExamples()) {
            propose(state, System.currentTimeMillis());
        }
        store.put(task, state);
    }

    private TaskState state(String task, FeatureRecord f) {
        TaskState s = working.get(task);
        if (s == null) {
            s = store.get(task);
            if (s == null) {
                Head head = config.headType().create(f.embedding().length, config.headOptions());
                s = new TaskState(task, head, new WindowedAccuracy(config.accuracyWindow()),
                        new BackboneRef(f.backboneId(), f.backboneSha256(), f.embedding().length), new TreeMap<>(),
                        0, System.currentTimeMillis());
                LOG.info("New task {}: {} head on backbone {} ({} dims)", task, head.type().id(), f.backboneId(),
                        f.embedding().length);
            }
            working.put(task, s);
        }
        return s;
    }

    private void proposeDue(long now) {
        for (TaskState s : working.values().toArray(new TaskState[0])) {
            if (s.examplesSinceCandidate > 0 && now - s.lastCandidateAtMs >= config.candidateEveryMs()) {
                propose(s, now);
                store.put(s.task, s);
            }
        }
    }

    private void propose(TaskState s, long now) {
        HeadArtifact artifact = s.head.export();
        Map<String, Long> offsets = new TreeMap<>();
        s.featureOffsets.forEach((p, o) -> offsets.put(Integer.toString(p), o));
        ModelCandidate c = new ModelCandidate(ModelCandidate.FORMAT_VERSION, s.task, s.head.type().id(),
                artifact.labels(), s.backbone, Base64.getEncoder().encodeToString(artifact.encode()),
                new ModelMetrics(s.head.examplesLearned(), s.window.accuracy(), s.window.size(), s.window.count()),
                offsets, config.applicationId(), Instant.ofEpochMilli(now).toString());
        context.forward(new Record<>(s.task, c, now));
        s.examplesSinceCandidate = 0;
        s.lastCandidateAtMs = now;
        candidates.increment();
        LOG.debug("Proposed {} head for task {}: {} examples, windowed accuracy {}", c.headType(), s.task,
                c.metrics().examplesLearned(), c.metrics().windowedAccuracy());
    }

}
