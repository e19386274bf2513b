package io.headwater.core.evaluation;

/**
 * A change the {@link io.headwater.core.DriftDetector} reported on a test-then-train error stream.
 *
 * @param example     1-based position in the stream of the example that completed the evidence
 * @param errorBefore mean error of the detector's window just before
 * @param errorAfter  mean error of the window it kept (the newer part)
 */
public record Detection(long example, double errorBefore, double errorAfter) {

    /** True when the error rate went up: the data changed. A fall is the head learning or recovering. */
    public boolean errorRose() {
        return errorAfter > errorBefore;
    }
}
