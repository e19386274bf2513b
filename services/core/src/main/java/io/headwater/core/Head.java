package io.headwater.core;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * A per-task classifier over frozen embeddings that learns one example at a time. Implementations
 * keep their full training state (statistics, optimizer moments) and export the portable
 * {@link HeadArtifact} for consumers.
 *
 * <pre>{@code
 * Head head = HeadType.LDA.create(384, HeadOptions.defaults());
 * Optional<String> guess = head.predict(x);   // test ...
 * head.learn(x, "spam");                      // ... then train
 * HeadArtifact published = head.export();
 * }</pre>
 */
public interface Head {

    HeadType type();

    /** Embedding size this head takes. */
    int dimension();

    /** Labels seen so far, in output order. */
    List<String> labels();

    /** Examples learned so far. */
    long examplesLearned();

    /** The predicted label, or empty when the head has learned nothing yet. */
    Optional<String> predict(float[] embedding);

    /** Learns one labeled example. */
    void learn(float[] embedding, String label);

    /** The head as a portable artifact; requires at least one learned example. */
    HeadArtifact export();

    /** Size in bytes of {@link #encode(ByteBuffer)}. */
    int encodedSize();

    /**
     * Answers a change the drift detector reported in this head's test-then-train errors, in the
     * head's own way. The default does nothing.
     */
    default void reactToDrift() {
    }

    /** Writes the full training state, to be read back by {@link HeadType#decode(ByteBuffer)}. */
    void encode(ByteBuffer buf);
}
