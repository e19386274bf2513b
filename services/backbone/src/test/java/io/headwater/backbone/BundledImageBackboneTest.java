package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed fashion-cnn is the file {@code tools/image-backbone/train_fashion_cnn.py} wrote,
 * and ONNX Runtime runs it as PyTorch did: same SHA-256, same pooled features and logits on the
 * first 8 held-out Fashion-MNIST images ({@code fashion-cnn-reference.json}, written by that script).
 */
class BundledImageBackboneTest {

    /** SHA-256 of services/backbone/src/main/resources/fashion-cnn.onnx as committed. */
    static final String FASHION_CNN_SHA256 = "25740c1856f982572eae9da643126ad925d203a64436589c0e0ec0ea7b5a7198";

    private static JsonNode reference;
    private static List<byte[]> pngs;
    private static ImageBackbone backbone;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = BundledImageBackboneTest.class.getResourceAsStream("/fashion-cnn-reference.json")) {
            reference = new ObjectMapper().readTree(in);
        }
        pngs = new ArrayList<>();
        reference.get("png_base64").forEach(p -> pngs.add(Base64.getDecoder().decode(p.asText())));
        backbone = ImageBackbone.load(ImageBackboneSpec.builder().provider(ExecutionProvider.CPU).build());
    }

    @AfterAll
    static void close() {
        backbone.close();
    }

    @Test
    void shouldBeTheModelTheTrainingScriptWrote() {
        assertThat(backbone.sha256()).isEqualTo(FASHION_CNN_SHA256).isEqualTo(reference.get("sha256").asText());
        assertThat(backbone.id()).isEqualTo("fashion-cnn");
        assertThat(backbone.source()).isEqualTo("classpath:/fashion-cnn.onnx");
    }

    @Test
    void shouldReadInputOutputAndNormalisationFromTheGraph() {
        ImageInput input = backbone.input();
        assertThat(input.name()).isEqualTo("image");
        assertThat(input.shape(-1)).containsExactly(-1, 1, 28, 28);
        assertThat(input.mean()).containsExactly(0.2860);
        assertThat(input.std()).containsExactly(0.3530);
        assertThat(backbone.output()).isEqualTo("feature_map");
        assertThat(backbone.pooling()).isEqualTo(ImagePooling.MEAN);
        assertThat(backbone.dimension()).isEqualTo(128);
    }

    @Test
    void shouldGiveThePooledFeaturesPyTorchGave() {
        try (ImageBackbone raw = ImageBackbone.load(ImageBackboneSpec.builder().provider(ExecutionProvider.CPU)
                .normalize(false).build())) {
            float[][] vectors = raw.embedImages(pngs);
            assertClose(vectors, reference.get("pooled"));
        }
    }

    @Test
    void shouldGiveTheLogitsPyTorchGaveAndTheirClasses() {
        try (ImageBackbone logits = ImageBackbone.load(ImageBackboneSpec.builder().provider(ExecutionProvider.CPU)
                .outputName("logits").pooling(ImagePooling.NONE).normalize(false).build())) {
            float[][] vectors = logits.embedImages(pngs);
            assertClose(vectors, reference.get("logits"));
            assertThat(logits.dimension()).isEqualTo(10);
        }
    }

    @Test
    void shouldL2NormaliseByDefaultAndNotDependOnBatchMates() {
        float[][] together = backbone.embedImages(pngs);
        float[][] alone = backbone.embedImages(List.of(pngs.get(3)));
        double norm = 0;
        for (float v : together[3]) {
            norm += v * v;
        }
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-5));
        for (int d = 0; d < alone[0].length; d++) {
            assertThat(alone[0][d]).isCloseTo(together[3][d], within(1e-5f));
        }
    }

    private static void assertClose(float[][] actual, JsonNode expected) {
        assertThat(actual.length).isEqualTo(expected.size());
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).hasSize(expected.get(i).size());
            for (int d = 0; d < actual[i].length; d++) {
                assertThat((double) actual[i][d]).as("image %d value %d", i, d)
                        .isCloseTo(expected.get(i).get(d).asDouble(), within(1e-4));
            }
        }
    }
}
