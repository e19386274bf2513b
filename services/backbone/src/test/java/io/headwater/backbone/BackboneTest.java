package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.headwater.core.ConfigException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BackboneTest {

    private static Backbone backbone;

    @BeforeAll
    static void load() {
        backbone = Backbone.load(new BackboneSpec("all-minilm-l6-v2-q", 128, 4, 0));
    }

    @AfterAll
    static void close() {
        backbone.close();
    }

    private static double norm(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        return Math.sqrt(sum);
    }

    @Test
    void shouldRejectUnknownNameListingKnownOnes() {
        // given
        BackboneSpec spec = new BackboneSpec("bert-huge", 256, 32, 0);

        // when / then
        assertThatThrownBy(() -> Backbone.load(spec))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.name must be one of [all-minilm-l6-v2-q, all-minilm-l6-v2, bge-small-en-v15-q], "
                        + "found 'bert-huge' (or set backbone.model.path to load an ONNX file)");
    }

    @Test
    void shouldDescribeItselfWithStableIdChecksumAndDimension() throws Exception {
        // given: the checksum computed independently from the same resource
        byte[] bytes;
        try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2-q.onnx")) {
            bytes = in.readAllBytes();
        }
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));

        // when
        String secondSha;
        try (Backbone second = Backbone.load(BackboneSpec.defaults())) {
            secondSha = second.sha256();
        }

        // then
        assertThat(backbone.id()).isEqualTo("all-minilm-l6-v2-q");
        assertThat(backbone.dimension()).isEqualTo(384);
        assertThat(backbone.sha256()).matches("[0-9a-f]{64}").isEqualTo(expected).isEqualTo(secondSha);
    }

    @Test
    void shouldReturnEmptyArrayWithoutRunningForEmptyList() {
        // given
        long before = backbone.calls();

        // when
        float[][] vectors = backbone.embed(List.of());

        // then
        assertThat(vectors).isEmpty();
        assertThat(backbone.calls()).isEqualTo(before);
    }

    @Test
    void shouldRunEachTextAloneWhenModelRowsInteract() {
        // given: the int8 MiniLM, whose batch-mates would change each other's vectors
        List<String> texts = Collections.nCopies(10, "the same short text");
        long before = backbone.calls();

        // when
        float[][] vectors = backbone.embed(texts);

        // then
        assertThat(BundledModel.ALL_MINILM_L6_V2_Q.rowsInteract()).isTrue();
        assertThat(vectors).hasNumberOfRows(10);
        assertThat(backbone.calls() - before).isEqualTo(10);
    }

    @Test
    void shouldRunOneSessionPerBatchWhenPaddingBatches() {
        // given: 10 texts in padded batches of 4
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            texts.add("text number " + i + " " + "and more words ".repeat(i));
        }
        try (Backbone padded = Backbone.load(backbone.spec(), Backbone.Execution.PADDED_BATCHES)) {

            // when
            float[][] vectors = padded.embed(texts);

            // then
            assertThat(padded.calls()).isEqualTo(3);
            assertThat(vectors).hasNumberOfRows(10);
            for (float[] vector : vectors) {
                assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
            }
        }
    }

    @Test
    void shouldChangeQuantisedEmbeddingWhenPaddedBesideLongerText() {
        // given: why the int8 model runs row by row. DynamicQuantizeLinear takes one scale per
        // tensor, so a short text padded beside a long one comes out measurably different.
        String shortText = "Hi.";
        String longText = "Stock markets fell sharply on Tuesday after the central bank "
                + "unexpectedly raised interest rates by half a percentage point.";
        try (Backbone padded = Backbone.load(backbone.spec(), Backbone.Execution.PADDED_BATCHES)) {

            // when
            float[] alone = padded.embed(List.of(shortText))[0];
            float[] besideLong = padded.embed(List.of(shortText, longText))[0];

            // then
            assertThat(cosine(alone, besideLong)).isLessThan(0.999);
            assertThat(cosine(alone, backbone.embed(List.of(shortText, longText))[0]))
                    .isGreaterThan(0.999999);
        }
    }

    @Test
    void shouldOrderShortestFirstAndSliceIntoBatches() {
        // given
        List<TokenizedText> tokenized = List.of(tokens(5), tokens(2), tokens(9), tokens(2), tokens(7));

        // when
        int[] order = Backbone.byLength(tokenized);
        List<int[]> batches = Backbone.batches(order, 2);

        // then
        assertThat(order).containsExactly(1, 3, 0, 4, 2);
        assertThat(batches).containsExactly(new int[] {1, 3}, new int[] {0, 4}, new int[] {2});
    }

    private static TokenizedText tokens(int length) {
        return new TokenizedText(new long[length], new long[length]);
    }

    @Test
    void shouldReturnUnitVectorsInInputOrder() {
        // given
        List<String> texts = List.of(
                "A cat is sleeping on the warm windowsill in the afternoon sun.",
                "stocks",
                "",
                "The central bank raised interest rates by a quarter of a point.");

        // when
        float[][] forward = backbone.embed(texts);
        List<String> backwards = new ArrayList<>(texts);
        Collections.reverse(backwards);
        float[][] reversed = backbone.embed(backwards);

        // then
        assertThat(forward).hasNumberOfRows(4);
        for (int i = 0; i < 4; i++) {
            assertThat(forward[i]).hasSize(384);
            assertThat(norm(forward[i])).isCloseTo(1.0, within(1e-5));
            assertThat(cosine(forward[i], reversed[3 - i])).isGreaterThan(0.9999);
        }
        assertThat(cosine(forward[0], forward[3])).isLessThan(0.5);
    }

    @Test
    void shouldTruncateTextLongerThanMaxTokens() {
        // given: far beyond both maxTokens (128) and the model's 512 positions
        String longText = String.join(" ", Collections.nCopies(2000, "river"));

        // when
        float[][] vectors = backbone.embed(List.of(longText));

        // then
        assertThat(norm(vectors[0])).isCloseTo(1.0, within(1e-5));
    }

    @Test
    void shouldRefuseToEmbedAfterCloseAndCloseTwiceQuietly() {
        // given
        Backbone closed = Backbone.load(BackboneSpec.defaults());

        // when
        closed.close();

        // then
        assertThatCode(closed::close).doesNotThrowAnyException();
        assertThatThrownBy(() -> closed.embed(List.of("x")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("Backbone all-minilm-l6-v2-q is closed");
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
