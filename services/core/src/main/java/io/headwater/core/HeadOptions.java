package io.headwater.core;

import java.util.List;
import java.util.Objects;

/**
 * Settings of the head types. Every value is checked here, so a head never sees a bad one.
 *
 * <pre>{@code
 * HeadOptions options = HeadOptions.defaults()
 *         .withSgd(HeadOptions.SgdOptions.defaults().withHidden(List.of(64)));
 * Head head = HeadType.SGD.create(384, options);
 * }</pre>
 *
 * @param ldaShrinkage how far the LDA covariance is pulled towards a scaled identity, in [0, 1]
 * @param solveEvery   a closed-form head re-solves for predictions after at least this many new
 *                     examples (later, at most every tenth more data; a new label always
 *                     triggers a solve): see {@link LdaHead}
 * @param ldaForget    on drift, the LDA statistics keep this fraction of their weight, in (0, 1]
 *                     (1 = never forget)
 * @param sgd          settings of the {@code sgd} head
 */
public record HeadOptions(double ldaShrinkage, int solveEvery, double ldaForget, SgdOptions sgd) {
    public static final double DEFAULT_LDA_SHRINKAGE = 0.2;
    public static final int DEFAULT_SOLVE_EVERY = 25;
    public static final double DEFAULT_LDA_FORGET = 0.1;

    public HeadOptions {
        if (!(ldaShrinkage >= 0 && ldaShrinkage <= 1)) {
            throw new ConfigException("lda shrinkage must be in [0, 1], found " + ldaShrinkage);
        }
        if (solveEvery < 1) {
            throw new ConfigException("solve interval must be >= 1, found " + solveEvery);
        }
        if (!(ldaForget > 0 && ldaForget <= 1)) {
            throw new ConfigException("lda forget factor must be in (0, 1], found " + ldaForget);
        }
        Objects.requireNonNull(sgd, "sgd cannot be null");
    }

    /** LDA settings with default forgetting and default sgd settings. */
    public HeadOptions(double ldaShrinkage, int solveEvery) {
        this(ldaShrinkage, solveEvery, DEFAULT_LDA_FORGET, SgdOptions.defaults());
    }

    public static HeadOptions defaults() {
        return new HeadOptions(DEFAULT_LDA_SHRINKAGE, DEFAULT_SOLVE_EVERY);
    }

    public HeadOptions withLdaForget(double factor) {
        return new HeadOptions(ldaShrinkage, solveEvery, factor, sgd);
    }

    public HeadOptions withSgd(SgdOptions options) {
        return new HeadOptions(ldaShrinkage, solveEvery, ldaForget, options);
    }

    /**
     * Settings of the {@code sgd} head (module {@code headwater-sgd}).
     *
     * @param hidden             sizes of the hidden relu layers, input side first; empty = softmax
     *                           regression on the embedding
     * @param learningRate       Adam step size, > 0
     * @param l2                 L2 weight penalty, >= 0
     * @param batchSize          rows per fit (new examples plus replayed ones), >= 1
     * @param seed               seeds the weight initialisation and the replay sampling
     * @param replayCapacity     past examples kept per task (reservoir sampling), >= 0
     * @param replayRatio        share of each micro-batch drawn from the replay buffer, in [0, 1)
     * @param driftBoost         on drift, the learning rate is multiplied by this, >= 1
     * @param driftBoostExamples ... for this many new examples, >= 0
     */
    public record SgdOptions(List<Integer> hidden, double learningRate, double l2, int batchSize, long seed,
                             int replayCapacity, double replayRatio, double driftBoost, int driftBoostExamples) {
        public static final List<Integer> DEFAULT_HIDDEN = List.of();
        public static final double DEFAULT_LEARNING_RATE = 0.1;
        public static final double DEFAULT_L2 = 1e-4;
        public static final int DEFAULT_BATCH_SIZE = 32;
        public static final long DEFAULT_SEED = 42;
        public static final int DEFAULT_REPLAY_CAPACITY = 500;
        public static final double DEFAULT_REPLAY_RATIO = 0.5;
        public static final double DEFAULT_DRIFT_BOOST = 3.0;
        public static final int DEFAULT_DRIFT_BOOST_EXAMPLES = 500;

        public SgdOptions {
            hidden = List.copyOf(Objects.requireNonNull(hidden, "hidden cannot be null"));
            for (int h : hidden) {
                if (h < 1) {
                    throw new ConfigException("sgd hidden layer sizes must be >= 1, found " + hidden);
                }
            }
            if (!(learningRate > 0 && Double.isFinite(learningRate))) {
                throw new ConfigException("sgd learning rate must be > 0, found " + learningRate);
            }
            if (!(l2 >= 0 && Double.isFinite(l2))) {
                throw new ConfigException("sgd l2 must be >= 0, found " + l2);
            }
            if (batchSize < 1) {
                throw new ConfigException("sgd batch size must be >= 1, found " + batchSize);
            }
            if (replayCapacity < 0) {
                throw new ConfigException("replay capacity must be >= 0, found " + replayCapacity);
            }
            if (!(replayRatio >= 0 && replayRatio < 1)) {
                throw new ConfigException("replay ratio must be in [0, 1), found " + replayRatio);
            }
            if (!(driftBoost >= 1 && Double.isFinite(driftBoost))) {
                throw new ConfigException("sgd drift boost must be >= 1, found " + driftBoost);
            }
            if (driftBoostExamples < 0) {
                throw new ConfigException("sgd drift boost examples must be >= 0, found " + driftBoostExamples);
            }
        }

        public static SgdOptions defaults() {
            return new SgdOptions(DEFAULT_HIDDEN, DEFAULT_LEARNING_RATE, DEFAULT_L2, DEFAULT_BATCH_SIZE, DEFAULT_SEED,
                    DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_RATIO, DEFAULT_DRIFT_BOOST, DEFAULT_DRIFT_BOOST_EXAMPLES);
        }

        public SgdOptions withHidden(List<Integer> sizes) {
            return new SgdOptions(sizes, learningRate, l2, batchSize, seed, replayCapacity, replayRatio, driftBoost,
                    driftBoostExamples);
        }

        public SgdOptions withLearningRate(double rate) {
            return new SgdOptions(hidden, rate, l2, batchSize, seed, replayCapacity, replayRatio, driftBoost,
                    driftBoostExamples);
        }

        public SgdOptions withBatchSize(int size) {
            return new SgdOptions(hidden, learningRate, l2, size, seed, replayCapacity, replayRatio, driftBoost,
                    driftBoostExamples);
        }

        public SgdOptions withSeed(long value) {
            return new SgdOptions(hidden, learningRate, l2, batchSize, value, replayCapacity, replayRatio, driftBoost,
                    driftBoostExamples);
        }

        public SgdOptions withReplay(int capacity, double ratio) {
            return new SgdOptions(hidden, learningRate, l2, batchSize, seed, capacity, ratio, driftBoost,
                    driftBoostExamples);
        }

        /** Rows of each micro-batch that are new examples (the rest come from replay). */
        public int newPerBatch() {
            if (replayCapacity == 0) {
                return batchSize;
            }
            return Math.max(1, batchSize - (int) Math.floor(batchSize * replayRatio));
        }
    }
}
