package io.headwater.core.evaluation;

import io.headwater.core.SparseVector;
import java.util.Objects;

/**
 * One labeled example as the evaluation sees it: its backbone embedding, its hashed bag-of-words
 * features (the no-backbone baseline) and its label.
 */
public record Example(float[] embedding, SparseVector words, String label) {
    public Example {
        Objects.requireNonNull(embedding, "embedding cannot be null");
        Objects.requireNonNull(words, "words cannot be null");
        Objects.requireNonNull(label, "label cannot be null");
    }

    /** The same example with another label (for label-drift streams). */
    public Example relabel(String newLabel) {
        return new Example(embedding, words, newLabel);
    }
}
