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

    /**
     * Class probabilities for one embedding, in {@link #labels()} order (they sum to 1); an empty
     * array when the head has learned nothing yet. The label {@link #predict} gives has the
     * highest score.
     */
    double[] scores(float[] embedding);

    /** Learns one labeled example; a label never seen before adds a class. */
    void learn(float[] embedding, String label);

    /**
     * Adds a class without learning from an example of it (nothing happens when the head knows the
     * label already). The scores of the other classes keep their order: no prediction changes at
     * that moment.
     */
    void addLabel(String label);

    /**
     * Tells the head that its input distribution has just changed (a drift detector fired), so that
     * it adapts faster to what comes next. What that means is up to the type: see the
     * implementations. Weights and predictions do not change at that moment.
     */
    void reactToDrift();

    /** The head as a portable artifact; requires at least one learned example. */
    HeadArtifact export();

    /** Size in bytes of {@link #encode(ByteBuffer)}. */
    int encodedSize();

    /** Writes the full training state, to be read back by {@link HeadType#decode(ByteBuffer)}. */
    void encode(ByteBuffer buf);
}
