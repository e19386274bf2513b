package io.headwater.core.evaluation;

import io.headwater.core.Head;
import java.util.List;

/**
 * What one test-then-train pass produced.
 *
 * @param head       the head after the pass
 * @param windowed   windowed test-then-train accuracy against examples seen
 * @param probe      accuracy on the probe set against examples seen (empty without one)
 * @param detections changes the drift detector reported (empty without one)
 * @param cumulative test-then-train accuracy over the whole pass
 */
public record StreamRun(Head head, List<Point> windowed, List<Point> probe, List<Detection> detections, double cumulative) {

    /** The last windowed accuracy, 0 for an empty pass. */
    public double finalWindowed() {
        return windowed.isEmpty() ? 0 : windowed.get(windowed.size() - 1).value();
    }
}
