package io.headwater.core;

/**
 * Settings shared by the head types.
 *
 * @param ldaShrinkage how far the LDA covariance is pulled towards a scaled identity, in [0, 1]
 * @param solveEvery   re-solve a closed-form head after this many new examples (a new label
 *                     always triggers a solve)
 */
public record HeadOptions(double ldaShrinkage, int solveEvery) {
    public static final double DEFAULT_LDA_SHRINKAGE = 0.2;
    public static final int DEFAULT_SOLVE_EVERY = 25;

    public HeadOptions {
        if (!(ldaShrinkage >= 0 && ldaShrinkage <= 1)) {
            throw new ConfigException("lda shrinkage must be in [0, 1], found " + ldaShrinkage);
        }
        if (solveEvery < 1) {
            throw new ConfigException("solve interval must be >= 1, found " + solveEvery);
        }
    }

    public static HeadOptions defaults() {
        return new HeadOptions(DEFAULT_LDA_SHRINKAGE, DEFAULT_SOLVE_EVERY);
    }
}
