package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acceptance: our tokenizer + session + pooling give the same vectors as an independent
 * implementation of the same model (langchain4j's in-process MiniLM, which embeds one text per
 * session run), however the texts are grouped into calls.
 *
 * <p>Sentences stay under 100 tokens: langchain4j splits long texts into pieces and averages
 * them, which is a different (not wrong) definition of the embedding of a long text.
 */
class BackboneReferenceTest {

    private static final Logger log = LoggerFactory.getLogger(BackboneReferenceTest.class);

    private static final double MIN_COSINE = 0.9999;

    /** The bundled-backbone sentences plus longer, multi-clause ones: mixed lengths in one batch. */
    private static final List<String> SENTENCES = java.util.stream.Stream.concat(
            BundledBackbonesTest.SENTENCES.stream(), java.util.stream.Stream.of(
            "ONNX Runtime 1.23 runs int8-quantised transformers on CPUs and GPUs.",
            "The patient presented with a persistent cough, mild fever and shortness of breath, "
                    + "and was referred for a chest X-ray; results are expected within 48 hours, "
                    + "after which the attending physician will decide on further treatment.",
            "In 1969, Apollo 11 landed on the Moon, and Neil Armstrong became the first person "
                    + "to walk on its surface while millions watched on television around the world."))
            .toList();

    private static Backbone backbone;
    private static float[][] reference;

    @BeforeAll
    static void embedWithReference() {
        EmbeddingModel model = new AllMiniLmL6V2QuantizedEmbeddingModel();
        reference = SENTENCES.stream()
                .map(s -> model.embed(s).content().vector())
                .toArray(float[][]::new);
        backbone = Backbone.load(new BackboneSpec("all-minilm-l6-v2-q", 256, 32, 0));
    }

    @AfterAll
    static void close() {
        backbone.close();
    }

    @Test
    void shouldMatchReferenceWhenAllSentencesAreEmbeddedInOneCall() {
        // given: all eleven sentences, of very different lengths, in one call with batchSize 32

        // when
        float[][] ours = backbone.embed(SENTENCES);

        // then
        assertClose(ours, "one call");
    }

    @Test
    void shouldMatchReferenceWhenEmbeddingOneSentenceAtATime() {
        // given
        float[][] ours = new float[SENTENCES.size()][];

        // when
        for (int i = 0; i < SENTENCES.size(); i++) {
            ours[i] = backbone.embed(List.of(SENTENCES.get(i)))[0];
        }

        // then
        assertClose(ours, "one at a time");
    }

    @Test
    void shouldMatchReferenceWithOneWorkerAndSmallBatches() {
        // given
        try (Backbone small = Backbone.load(new BackboneSpec("all-minilm-l6-v2-q", 256, 3, 1))) {

            // when
            float[][] ours = small.embed(SENTENCES);

            // then
            assertClose(ours, "batch size 3, one worker");
        }
    }

    private static void assertClose(float[][] ours, String how) {
        assertThat(ours).hasNumberOfRows(SENTENCES.size());
        double min = 1;
        for (int i = 0; i < SENTENCES.size(); i++) {
            double cosine = BackboneTest.cosine(ours[i], reference[i]);
            min = Math.min(min, cosine);
            assertThat(cosine)
                    .as("cosine to reference of sentence %d (%s), %s", i, SENTENCES.get(i), how)
                    .isGreaterThan(MIN_COSINE);
        }
        log.info("Minimum cosine to the langchain4j reference, {}: {}", how, min);
    }
}
