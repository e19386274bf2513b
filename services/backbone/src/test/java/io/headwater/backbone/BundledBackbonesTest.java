package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every bundled backbone: loads, describes itself, gives unit vectors that mean something, and
 * runs the way its graph needs (padded batches only when rows do not interact). Each model is
 * loaded once, on the CPU, and shared by the tests.
 */
class BundledBackbonesTest {

    private static final Logger log = LoggerFactory.getLogger(BundledBackbonesTest.class);

    static final List<String> SENTENCES = List.of(
            "Hi.",
            "Kafka is a distributed log.",
            "The quick brown fox jumps over the lazy dog.",
            "I'd like a refund, please: the parcel arrived damaged and two items were missing!",
            "Stock markets fell sharply on Tuesday after the central bank unexpectedly raised "
                    + "interest rates by half a percentage point.",
            "Why won't my laptop connect to the Wi-Fi network?",
            "Great product, would buy again.",
            "naïve café résumé — e-mail me at someone@example.com");

    private static final Map<BundledModel, Backbone> LOADED = new EnumMap<>(BundledModel.class);

    private static synchronized Backbone backbone(BundledModel model) {
        return LOADED.computeIfAbsent(model, m -> Backbone.load(BackboneSpec.builder()
                .name(m.id()).maxTokens(128).batchSize(4).provider(ExecutionProvider.CPU).build()));
    }

    @AfterAll
    static void close() {
        LOADED.values().forEach(Backbone::close);
        LOADED.clear();
    }

    private static byte[] resource(String name) throws Exception {
        try (InputStream in = BundledBackbonesTest.class.getResourceAsStream(name)) {
            assertThat(in).as("classpath resource %s", name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static double norm(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        return Math.sqrt(sum);
    }

    @ParameterizedTest
    @EnumSource(BundledModel.class)
    void shouldDescribeItselfWithStableIdChecksumDimensionAndPooling(BundledModel model) throws Exception {
        // given: the checksum computed independently from the same resource
        byte[] bytes = resource(model.modelResource());
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));

        // when
        Backbone backbone = backbone(model);

        // then
        assertThat(backbone.id()).isEqualTo(model.id());
        assertThat(BundledModel.byName(model.id())).contains(model);
        assertThat(backbone.sha256()).matches("[0-9a-f]{64}").isEqualTo(expected);
        assertThat(backbone.dimension()).isEqualTo(384).isEqualTo(model.dimension());
        assertThat(backbone.pooling()).isEqualTo(model.pooling());
        assertThat(backbone.provider()).isEqualTo("cpu");
        // row by row exactly when the graph quantises activations with one scale per tensor
        byte[] marker = "DynamicQuantizeLinear".getBytes(StandardCharsets.US_ASCII);
        assertThat(ModelSource.contains(bytes, bytes.length, marker)).isEqualTo(model.rowsInteract());
        assertThat(backbone.rowByRow()).isEqualTo(model.rowsInteract());
    }

    @ParameterizedTest
    @EnumSource(BundledModel.class)
    void shouldGiveUnitVectorsThatPlaceParaphrasesCloserThanUnrelatedText(BundledModel model) {
        // given
        List<String> texts = List.of(
                "The central bank raised interest rates.",
                "Interest rates were increased by the central bank.",
                "A cat is sleeping on the warm windowsill.");

        // when
        float[][] vectors = backbone(model).embed(texts);

        // then
        for (float[] vector : vectors) {
            assertThat(vector).hasSize(384);
            assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
        }
        assertThat(BackboneTest.cosine(vectors[0], vectors[1]))
                .isGreaterThan(BackboneTest.cosine(vectors[0], vectors[2]) + 0.2);
    }

    @Test
    void shouldListEveryBundledNameWhenNameIsUnknown() {
        assertThat(BundledModel.knownNames()).isEqualTo("all-minilm-l6-v2-q, all-minilm-l6-v2, bge-small-en-v15-q");
    }

    @Test
    void shouldGiveSameVectorsInPaddedBatchesAsOneAtATimeForFloat32Model() {
        // given: texts of very different lengths, in padded batches of 4
        Backbone float32 = backbone(BundledModel.ALL_MINILM_L6_V2);
        assertThat(float32.rowByRow()).isFalse();
        long before = float32.calls();

        // when
        float[][] batched = float32.embed(SENTENCES);
        long runs = float32.calls() - before;
        double min = 1;
        for (int i = 0; i < SENTENCES.size(); i++) {
            float[] alone = float32.embed(List.of(SENTENCES.get(i)))[0];
            min = Math.min(min, BackboneTest.cosine(batched[i], alone));
        }

        // then
        assertThat(runs).isEqualTo(2);
        assertThat(min).isGreaterThan(0.9999);
        log.info("float32 MiniLM, minimum cosine padded batch vs alone: {}", min);
    }

    @Test
    void shouldChangeBgeVectorsWhenPaddedBesideLongerTextWhichIsWhyItRunsRowByRow() {
        // given: bge forced into padded batches
        String shortText = "Hi.";
        String longText = SENTENCES.get(4);
        try (Backbone padded = Backbone.load(backbone(BundledModel.BGE_SMALL_EN_V15_Q).spec(),
                Backbone.Execution.PADDED_BATCHES)) {

            // when
            float[] alone = padded.embed(List.of(shortText))[0];
            float[] besideLong = padded.embed(List.of(shortText, longText))[0];
            float[] rowByRow = backbone(BundledModel.BGE_SMALL_EN_V15_Q).embed(List.of(shortText, longText))[0];

            // then
            double batchedCosine = BackboneTest.cosine(alone, besideLong);
            log.info("bge int8, cosine of a short text alone vs padded beside a long one: {}", batchedCosine);
            assertThat(batchedCosine).isLessThan(0.999);
            assertThat(BackboneTest.cosine(alone, rowByRow)).isGreaterThan(0.999999);
        }
    }

    @Test
    void shouldPoolBgeFromClsToken() {
        // given: the hidden states of the same text, straight from the session
        BundledModel bge = BundledModel.BGE_SMALL_EN_V15_Q;
        String text = SENTENCES.get(3);
        float[][][] hidden;
        long[][] mask;
        try (TextTokenizer tokenizer = TextTokenizer.bundled(bge, 128)) {
            TokenBatch batch = tokenizer.pad(tokenizer.encode(List.of(text)));
            mask = batch.attentionMask();
            try (OnnxEncoder encoder = OnnxEncoder.create(ModelSource.bundled(bge, OptionalInt.empty()),
                    ExecutionProvider.CPU, 0, 1, batch)) {
                hidden = encoder.run(batch);
            }
        }

        // when
        float[] embedded = backbone(bge).embed(List.of(text))[0];

        // then
        assertThat(backbone(bge).pooling()).isEqualTo(PoolingMode.CLS);
        assertThat(BackboneTest.cosine(embedded, Pooling.clsPool(hidden)[0])).isGreaterThan(0.999999);
        assertThat(BackboneTest.cosine(embedded, Pooling.meanPool(hidden, mask)[0])).isLessThan(0.99);
    }

    @Test
    void shouldMatchLangchain4jReferenceForBge() {
        // given: an independent implementation of the same model (its own tokenizer call, CLS pooling)
        EmbeddingModel reference = new BgeSmallEnV15QuantizedEmbeddingModel();

        // when
        float[][] ours = backbone(BundledModel.BGE_SMALL_EN_V15_Q).embed(SENTENCES);

        // then
        double min = 1;
        for (int i = 0; i < SENTENCES.size(); i++) {
            float[] theirs = reference.embed(SENTENCES.get(i)).content().vector();
            min = Math.min(min, BackboneTest.cosine(ours[i], theirs));
        }
        log.info("bge int8, minimum cosine to the langchain4j reference: {}", min);
        assertThat(min).isGreaterThan(0.9999);
    }
}
