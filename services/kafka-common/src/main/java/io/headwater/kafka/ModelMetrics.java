package io.headwater.kafka;

/**
 * Test-then-train figures of a head version.
 *
 * @param examplesLearned  examples the head has learned from, in total
 * @param windowedAccuracy accuracy of the last {@code windowCount} predictions made before learning
 * @param window           configured window size
 * @param windowCount      predictions in the window (at most {@code window})
 */
public record ModelMetrics(long examplesLearned, double windowedAccuracy, int window, int windowCount) {
}
