package io.headwater.kafka;

/**
 * Test-then-train figures of a head version.
 *
 * @param examplesLearned  examples the head has learned from, in total
 * @param windowedAccuracy accuracy of the last {@code windowCount} predictions made before learning
 * @param window           configured window size
 * @param windowCount      predictions in the window (at most {@code window})
 * @param driftDetections  changes the task's drift detector has reported, in total
 * @param lastDriftAt      examples learned when the last change was reported; 0 when none was
 */
public record ModelMetrics(long examplesLearned, double windowedAccuracy, int window, int windowCount,
                           long driftDetections, long lastDriftAt) {
    /** Figures of a head without drift detections. */
    public static ModelMetrics of(long examplesLearned, double windowedAccuracy, int window, int windowCount) {
        return new ModelMetrics(examplesLearned, windowedAccuracy, window, windowCount, 0, 0);
    }
}
