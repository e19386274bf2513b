package io.headwater.trainer;

import io.headwater.core.HeadOptions;
import io.headwater.core.HeadType;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ServiceConfig;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;

/**
 * The trainer's configuration: the common keys plus its own. Unknown keys go to Kafka Streams.
 *
 * <pre>{@code
 * TrainerConfig config = new TrainerConfig(Map.of("trainer.candidate.every.examples", "200"));
 * }</pre>
 */
public final class TrainerConfig extends ServiceConfig {
    public static final String APPLICATION_ID = "trainer.application.id";
    public static final String HEAD_TYPE = "trainer.head.type";
    public static final String DRIFT_DELTA = "trainer.drift.delta";
    public static final String DRIFT_REACTION = "trainer.drift.reaction";
    public static final String METRICS_MAX_TASKS = "trainer.metrics.max.tasks";
    public static final String LDA_SHRINKAGE = "trainer.lda.shrinkage";
    public static final String SOLVE_EVERY = "trainer.solve.every";
    public static final String CANDIDATE_EVERY_EXAMPLES = "trainer.candidate.every.examples";
    public static final String CANDIDATE_EVERY_MS = "trainer.candidate.every.ms";
    public static final String ACCURACY_WINDOW = "trainer.accuracy.window";
    public static final String COMMIT_INTERVAL_MS = "trainer.commit.interval.ms";
    public static final String STATE_DIR = "trainer.state.dir";

    public static final ConfigDef CONFIG = HeadwaterConfigs.common()
            .define(APPLICATION_ID, Type.STRING, "headwater-trainer", Importance.HIGH,
                    "Kafka Streams application id of the trainer (consumer group and internal topic prefix).")
            .define(HEAD_TYPE, Type.LIST, HeadType.LDA.id(), TrainerConfig::validateHeadTypes, Importance.HIGH,
                    "Head types every task trains, comma-separated: several train side by side as challengers on the "
                            + "same stream, each evaluated test-then-train and proposing its own candidates.")
            .define(DRIFT_DELTA, Type.DOUBLE, 0.002, Range.between(1e-9, 0.5), Importance.LOW,
                    "Confidence of the ADWIN-style drift detector on each head's test-then-train errors; smaller "
                            + "reports fewer, surer changes.")
            .define(DRIFT_REACTION, Type.STRING, "adapt", ValidString.in("alert", "adapt"), Importance.MEDIUM,
                    "What a detected change does: alert = count, log and record it in the next candidate; adapt = that "
                            + "plus the head's own reaction (sgd: reset and boost the optimizer; lda: forget old statistics).")
            .define(METRICS_MAX_TASKS, Type.INT, 100, Range.atLeast(0), Importance.LOW,
                    "Tasks that get their own task tag on headwater.trainer.accuracy; later tasks are averaged into task=\"_other\".")
            .define(LDA_SHRINKAGE, Type.DOUBLE, HeadOptions.DEFAULT_LDA_SHRINKAGE, Range.between(0, 1),
                    Importance.MEDIUM, "How far the LDA covariance is pulled towards a scaled identity (0 = none).")
            .define(SOLVE_EVERY, Type.INT, HeadOptions.DEFAULT_SOLVE_EVERY, Range.atLeast(1), Importance.LOW,
                    "Re-solve a closed-form head for test-then-train predictions after this many new examples.")
            .define(CANDIDATE_EVERY_EXAMPLES, Type.INT, 500, Range.atLeast(1), Importance.HIGH,
                    "Propose a new head version after this many new examples of a task.")
            .define(CANDIDATE_EVERY_MS, Type.LONG, 30_000L, Range.atLeast(100), Importance.HIGH,
                    "Propose a new head version when a task has new examples and this long has passed (wall clock).")
            .define(ACCURACY_WINDOW, Type.INT, 500, Range.between(1, 1_000_000), Importance.MEDIUM,
                    "Number of most recent test-then-train predictions the windowed accuracy covers.")
            .define(COMMIT_INTERVAL_MS, Type.LONG, 1_000L, Range.atLeast(10), Importance.MEDIUM,
                    "Kafka Streams commit interval: head state is written to its changelog at most this often.")
            .define(STATE_DIR, Type.STRING, System.getProperty("java.io.tmpdir") + "/headwater-trainer",
                    Importance.MEDIUM, "Directory of the trainer's local state stores.");

    public TrainerConfig(Map<String, ?> props) {
        super(CONFIG, props);
    }

    public String applicationId() {
        return raw().getString(APPLICATION_ID);
    }

    /** The head types each task trains, in configured order, without repeats. */
    public java.util.List<HeadType> headTypes() {
        return raw().getList(HEAD_TYPE).stream().map(HeadType::of).distinct().toList();
    }

    private static void validateHeadTypes(String name, Object value) {
        @SuppressWarnings("unchecked")
        java.util.List<String> types = (java.util.List<String>) value;
        if (types == null || types.isEmpty()) {
            throw new org.apache.kafka.common.config.ConfigException(name, value, "at least one head type is needed");
        }
        for (String t : types) {
            try {
                HeadType.of(t);
            } catch (io.headwater.core.ConfigException e) {
                throw new org.apache.kafka.common.config.ConfigException(name, value, e.getMessage());
            }
        }
    }

    public double driftDelta() {
        return raw().getDouble(DRIFT_DELTA);
    }

    /** True when a detected change should also trigger the head's own reaction. */
    public boolean driftAdapts() {
        return "adapt".equals(raw().getString(DRIFT_REACTION));
    }

    public int metricsMaxTasks() {
        return raw().getInt(METRICS_MAX_TASKS);
    }

    public HeadOptions headOptions() {
        return new HeadOptions(raw().getDouble(LDA_SHRINKAGE), raw().getInt(SOLVE_EVERY));
    }

    public int candidateEveryExamples() {
        return raw().getInt(CANDIDATE_EVERY_EXAMPLES);
    }

    public long candidateEveryMs() {
        return raw().getLong(CANDIDATE_EVERY_MS);
    }

    public int accuracyWindow() {
        return raw().getInt(ACCURACY_WINDOW);
    }

    public long commitIntervalMs() {
        return raw().getLong(COMMIT_INTERVAL_MS);
    }

    public String stateDir() {
        return raw().getString(STATE_DIR);
    }
}
