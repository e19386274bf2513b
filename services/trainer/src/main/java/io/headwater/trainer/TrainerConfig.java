package io.headwater.trainer;

import io.headwater.core.HeadOptions;
import io.headwater.core.HeadOptions.SgdOptions;
import io.headwater.core.HeadType;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ServiceConfig;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
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
    public static final String LDA_FORGET = "trainer.lda.forget";
    public static final String SGD_HIDDEN = "trainer.sgd.hidden";
    public static final String SGD_LEARNING_RATE = "trainer.sgd.learning.rate";
    public static final String SGD_L2 = "trainer.sgd.l2";
    public static final String SGD_BATCH_SIZE = "trainer.sgd.batch.size";
    public static final String SGD_SEED = "trainer.sgd.seed";
    public static final String SGD_DRIFT_BOOST = "trainer.sgd.drift.boost";
    public static final String SGD_DRIFT_BOOST_EXAMPLES = "trainer.sgd.drift.boost.examples";
    public static final String REPLAY_CAPACITY = "trainer.replay.capacity";
    public static final String REPLAY_RATIO = "trainer.replay.ratio";
    /** Keeps an sgd head's state (replay buffer included) under the 8 MiB record limit at 384 dimensions. */
    public static final int MAX_REPLAY_CAPACITY = 4_000;
    public static final String CANDIDATE_EVERY_EXAMPLES = "trainer.candidate.every.examples";
    public static final String CANDIDATE_EVERY_MS = "trainer.candidate.every.ms";
    public static final String ACCURACY_WINDOW = "trainer.accuracy.window";
    public static final String COMMIT_INTERVAL_MS = "trainer.commit.interval.ms";
    public static final String STATE_DIR = "trainer.state.dir";
    public static final String STATE_DELTA_RATIO = "trainer.state.delta.ratio";
    public static final String DEDUP_RETENTION_MS = "trainer.dedup.retention.ms";
    public static final String INSTANCE_ID = "trainer.instance.id";

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
                    "Re-solve an lda head for test-then-train predictions after at least this many new examples "
                            + "(later, after each tenth more data); after a label's first example, after at most this "
                            + "many.")
            .define(LDA_FORGET, Type.DOUBLE, HeadOptions.DEFAULT_LDA_FORGET, Range.between(1e-6, 1), Importance.LOW,
                    "On drift, an lda head keeps this fraction of the weight of what it learned (1 = never forget).")
            .define(SGD_HIDDEN, Type.LIST, join(SgdOptions.DEFAULT_HIDDEN), new LayerSizes(),
                    Importance.MEDIUM, "Hidden relu layer sizes of an sgd head, input side first; empty for none.")
            .define(SGD_LEARNING_RATE, Type.DOUBLE, SgdOptions.DEFAULT_LEARNING_RATE, Range.between(1e-7, 1),
                    Importance.MEDIUM, "Adam step size of an sgd head.")
            .define(SGD_L2, Type.DOUBLE, SgdOptions.DEFAULT_L2, Range.between(0, 1), Importance.LOW,
                    "L2 weight penalty of an sgd head.")
            .define(SGD_BATCH_SIZE, Type.INT, SgdOptions.DEFAULT_BATCH_SIZE, Range.between(1, 4096), Importance.MEDIUM,
                    "Rows per Adam step of an sgd head: new examples plus replayed ones.")
            .define(SGD_SEED, Type.LONG, SgdOptions.DEFAULT_SEED, Importance.LOW,
                    "Seed of an sgd head's weight initialisation and replay sampling.")
            .define(SGD_DRIFT_BOOST, Type.DOUBLE, SgdOptions.DEFAULT_DRIFT_BOOST, Range.between(1, 100), Importance.LOW,
                    "On drift, an sgd head multiplies its learning rate by this (and resets its Adam moments).")
            .define(SGD_DRIFT_BOOST_EXAMPLES, Type.INT, SgdOptions.DEFAULT_DRIFT_BOOST_EXAMPLES, Range.atLeast(0),
                    Importance.LOW, "Number of examples the boosted learning rate lasts after drift.")
            .define(REPLAY_CAPACITY, Type.INT, SgdOptions.DEFAULT_REPLAY_CAPACITY,
                    Range.between(0, MAX_REPLAY_CAPACITY), Importance.MEDIUM,
                    "Past examples an sgd head keeps per task for replay (reservoir sample, 4 bytes per dimension each).")
            .define(REPLAY_RATIO, Type.DOUBLE, SgdOptions.DEFAULT_REPLAY_RATIO, Range.between(0, 0.95),
                    Importance.MEDIUM, "Share of each sgd micro-batch drawn from the replay buffer.")
            .define(CANDIDATE_EVERY_EXAMPLES, Type.INT, 500, Range.atLeast(1), Importance.HIGH,
                    "Propose a new head version after this many new examples of a task.")
            .define(CANDIDATE_EVERY_MS, Type.LONG, 30_000L, Range.atLeast(100), Importance.HIGH,
                    "Propose a new head version when a task has new examples and this long has passed (wall clock).")
            .define(ACCURACY_WINDOW, Type.INT, 500, Range.between(1, 1_000_000), Importance.MEDIUM,
                    "Number of most recent test-then-train predictions the windowed accuracy covers.")
            .define(COMMIT_INTERVAL_MS, Type.LONG, 1_000L, Range.atLeast(10), Importance.MEDIUM,
                    "Kafka Streams commit interval: head state is written to its changelog at most this often.")
            .define(STATE_DELTA_RATIO, Type.DOUBLE, 1.0, Range.between(0, 100), Importance.LOW,
                    "A changed task state is written to the changelog as a delta (its examples and proposals since "
                            + "it was last written, replayed onto the last whole state when read back) while its deltas "
                            + "add up to at most this many times the size of that whole state; then whole again. 0 "
                            + "always writes it whole.")
            .define(STATE_DIR, Type.STRING, System.getProperty("java.io.tmpdir") + "/headwater-trainer",
                    Importance.MEDIUM, "Directory of the trainer's local state stores.")
            .define(DEDUP_RETENTION_MS, Type.LONG, 86_400_000L, Range.atLeast(0), Importance.MEDIUM,
                    "An example id a task learned within this long (by record time) is not learned again: the "
                            + "repeat goes to features.dlq with reason duplicate. Each id costs about 60 bytes of "
                            + "local state and changelog for this long. 0 turns it off.")
            .define(INSTANCE_ID, Type.STRING, "", Importance.MEDIUM,
                    "This instance's group.instance.id (static membership; Kafka Streams adds the thread index). It "
                            + "must be unique per instance and stable across its restarts, so a restarted trainer takes "
                            + "its tasks back at once instead of waiting out its predecessor's session timeout. Empty "
                            + "means <application id>-<host name>-<a hash of the state directory>, which is unique per instance on a host (instances cannot share a state directory) and stable while the host name and state directory are.");

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
        SgdOptions sgd = new SgdOptions(hidden(raw().getList(SGD_HIDDEN)), raw().getDouble(SGD_LEARNING_RATE),
                raw().getDouble(SGD_L2), raw().getInt(SGD_BATCH_SIZE), raw().getLong(SGD_SEED),
                raw().getInt(REPLAY_CAPACITY), raw().getDouble(REPLAY_RATIO), raw().getDouble(SGD_DRIFT_BOOST),
                raw().getInt(SGD_DRIFT_BOOST_EXAMPLES));
        return new HeadOptions(raw().getDouble(LDA_SHRINKAGE), raw().getInt(SOLVE_EVERY), raw().getDouble(LDA_FORGET),
                sgd);
    }

    private static String join(List<Integer> sizes) {
        return sizes.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static List<Integer> hidden(List<String> values) {
        return values.stream().map(String::trim).filter(v -> !v.isEmpty()).map(Integer::valueOf).toList();
    }

    /** Validates {@link #SGD_HIDDEN}: a comma-separated list of layer sizes, possibly empty. */
    private static final class LayerSizes implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            @SuppressWarnings("unchecked")
            List<String> values = (List<String>) value;
            for (String v : values) {
                String t = v.trim();
                if (t.isEmpty()) {
                    continue;
                }
                int size;
                try {
                    size = Integer.parseInt(t);
                } catch (NumberFormatException e) {
                    throw new org.apache.kafka.common.config.ConfigException(name, value,
                            "'" + t + "' is not a layer size (comma-separated positive integers)");
                }
                if (size < 1 || size > 4096) {
                    throw new org.apache.kafka.common.config.ConfigException(name, value,
                            "layer size " + size + " is not in [1, 4096]");
                }
            }
        }

        @Override
        public String toString() {
            return "comma-separated sizes in [1,...,4096], or empty";
        }
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

    public double stateDeltaRatio() {
        return raw().getDouble(STATE_DELTA_RATIO);
    }

    public String stateDir() {
        return raw().getString(STATE_DIR);
    }

    public long dedupRetentionMs() {
        return raw().getLong(DEDUP_RETENTION_MS);
    }

    /** The instance's static group member id: {@code trainer.instance.id}, or one derived from application id, host name and state directory. */
    public String instanceId() {
        String id = raw().getString(INSTANCE_ID).trim();
        return id.isEmpty() ? io.headwater.kafka.HeadwaterConfigs.instanceId(applicationId(), stateDir()) : id;
    }
}
