package io.headwater.trainer;

import io.headwater.core.HeadType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The trainer's meters, tagged by head type. Windowed accuracy is a gauge per task and head, but a
 * trainer may hold thousands of tasks: the first {@code maxTasks} tasks seen get their own
 * {@code task} tag, every later one is averaged into {@code task="_other"}, so the number of series
 * stays bounded.
 */
final class TrainerMetrics {
    static final String OTHER = "_other";

    private final MeterRegistry registry;
    private final int maxTasks;
    private final Map<HeadType, PerHead> heads = new EnumMap<>(HeadType.class);
    private final Map<String, Boolean> tagged = new ConcurrentHashMap<>();
    /** Every dead-letter reason ({@link LearnProcessor}), registered up front so each series exists from the start. */
    static final java.util.List<String> DLQ_REASONS = java.util.List.of("key", "empty", "decode", "non_finite",
            "dimension", "backbone", "duplicate", "head", "state");
    private final Map<String, Counter> deadLetters = new ConcurrentHashMap<>();

    /** The meters of one head type. */
    record PerHead(Counter examples, Counter correct, Counter candidates, Counter candidatesFailed, Counter drift,
                   Counter learnSeconds, Counter exportSeconds,
                   Map<String, AtomicReference<Double>> accuracy, Map<String, Double> others) {
    }

    TrainerMetrics(MeterRegistry registry, int maxTasks, Iterable<HeadType> types) {
        this.registry = registry;
        this.maxTasks = maxTasks;
        DLQ_REASONS.forEach(this::deadLetter);
        for (HeadType t : types) {
            String head = t.id();
            PerHead p = new PerHead(
                    Counter.builder("headwater.trainer.examples").description("Examples learned").baseUnit("examples")
                            .tag("head", head).register(registry),
                    Counter.builder("headwater.trainer.predictions.correct")
                            .description("Test-then-train predictions that were right").tag("head", head).register(registry),
                    Counter.builder("headwater.trainer.candidates").description("Candidate versions proposed")
                            .tag("head", head).register(registry),
                    Counter.builder("headwater.trainer.candidates.failed")
                            .description("Candidates not proposed because the head failed to export")
                            .tag("head", head).register(registry),
                    Counter.builder("headwater.trainer.drift.detections")
                            .description("Changes the drift detector reported in test-then-train errors")
                            .tag("head", head).register(registry),
                    headSeconds(registry, head, "test_then_train"),
                    headSeconds(registry, head, "export"),
                    new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
            Map<String, Double> others = p.others();
            Gauge.builder("headwater.trainer.accuracy", others,
                            m -> m.isEmpty() ? Double.NaN : m.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN))
                    .description("Windowed test-then-train accuracy").tags("task", OTHER, "head", head).register(registry);
            heads.put(t, p);
        }
    }

    private static Counter headSeconds(MeterRegistry registry, String head, String phase) {
        return Counter.builder("headwater.trainer.head.seconds").baseUnit("seconds")
                .description("Wall time the stream threads spent in heads: predicting and learning each example "
                        + "(test_then_train), or exporting candidates (export)")
                .tags("head", head, "phase", phase).register(registry);
    }

    PerHead of(HeadType type) {
        return heads.get(type);
    }

    /**
     * Bytes of task states encoded into the changelogged state store (once per changed state per
     * commit), {@code form} {@code whole} or {@code delta}.
     */
    Counter stateBytes(String form) {
        return Counter.builder("headwater.trainer.state.written").baseUnit("bytes")
                .description("Task state encoded into the state store and its changelog, at most once per state per "
                        + "commit: whole, or as a delta of what changed since it was last written")
                .tag("form", form).register(registry);
    }

    /** Feature records sent to features.dlq for {@code reason}. */
    Counter deadLetter(String reason) {
        return deadLetters.computeIfAbsent(reason, r -> Counter.builder("headwater.trainer.dlq")
                .description("Feature records sent to the trainer's dead-letter topic, by reason").tag("reason", r)
                .register(registry));
    }

    /** Sets a task's windowed accuracy for one head type. */
    void accuracy(String task, HeadType type, double value) {
        PerHead p = heads.get(type);
        AtomicReference<Double> ref = p.accuracy().get(task);
        if (ref == null) {
            boolean own = tagged.containsKey(task) || (tagged.size() < maxTasks && tagged.putIfAbsent(task, true) == null);
            if (!own) {
                p.others().put(task, value);
                return;
            }
            ref = p.accuracy().computeIfAbsent(task, k -> {
                AtomicReference<Double> r = new AtomicReference<>(value);
                Gauge.builder("headwater.trainer.accuracy", r, AtomicReference::get)
                        .description("Windowed test-then-train accuracy").tags("task", task, "head", type.id())
                        .register(registry);
                return r;
            });
        }
        ref.set(value);
    }
}
