package io.headwater.client;

import java.util.List;

/**
 * A label predicted by one head version, with the class probabilities and the version that made it.
 *
 * @param task          the task
 * @param label         the most probable label
 * @param labels        all labels, in the order of {@code probabilities}
 * @param probabilities softmax output
 * @param version       the model version that produced it
 */
public record Prediction(String task, String label, List<String> labels, float[] probabilities, long version) {
}
