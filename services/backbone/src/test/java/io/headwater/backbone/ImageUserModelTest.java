package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image backbone loaded from a user's ONNX file: here the bundled fashion-cnn's bytes copied to
 * a file (and the int8 MiniLM text encoder, as a model that is no image model at all). The right
 * settings reproduce the bundled backbone; wrong ones stop start-up naming the file and the mismatch.
 */
class ImageUserModelTest {

    @TempDir
    static Path dir;

    private static Path cnn;
    private static Path text;

    @BeforeAll
    static void copyModels() throws Exception {
        cnn = dir.resolve("my-cnn.onnx");
        text = dir.resolve("minilm.onnx");
        try (InputStream in = ImageUserModelTest.class.getResourceAsStream("/fashion-cnn.onnx")) {
            Files.copy(in, cnn);
        }
        try (InputStream in = ImageUserModelTest.class.getResourceAsStream("/all-minilm-l6-v2-q.onnx")) {
            Files.copy(in, text);
        }
    }

    private static ImageBackboneSpec.Builder user(Path model) {
        return ImageBackboneSpec.builder().modelPath(model).provider(ExecutionProvider.CPU);
    }

    @Test
    void shouldReadInputAndSettingsFromTheFileAndMatchTheBundledModel() throws Exception {
        byte[] png = ImagePreprocessorTest.encode(ImagePreprocessorTest.grey(28, 28, (x, y) -> (x * y) % 256), "png");
        try (ImageBackbone mine = ImageBackbone.load(user(cnn).build());
                ImageBackbone bundled = ImageBackbone.load(ImageBackboneSpec.builder()
                        .provider(ExecutionProvider.CPU).build())) {
            assertThat(mine.id()).isEqualTo("my-cnn");
            assertThat(mine.sha256()).isEqualTo(bundled.sha256());
            assertThat(mine.input()).isEqualTo(bundled.input());
            assertThat(mine.embedImages(java.util.List.of(png))[0])
                    .containsExactly(bundled.embedImages(java.util.List.of(png))[0]);
        }
    }

    @Test
    void shouldFailNamingTheFileWhenTheInputNameIsWrong() {
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).inputName("pixel_values").build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model " + cnn + " has no input 'pixel_values' (inputs: [image]); "
                        + "set backbone.image.input.name to one of them");
    }

    @Test
    void shouldFailNamingTheFileWhenTheInputSizeDiffers() {
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).size(224, 224).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model " + cnn + " input 'image' has shape [-1, 1, 28, 28]: its height is 28 but "
                        + "backbone.image.size is 224x224");
    }

    @Test
    void shouldFailNamingTheFileWhenTheLayoutPutsChannelsWhereTheModelHasNone() {
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).channelsFirst(false).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("model " + cnn + " input 'image' has shape [-1, 1, 28, 28] (NHWC): 28 channels");
    }

    @Test
    void shouldFailNamingTheFileWhenTheModelIsNoImageModel() {
        assertThatThrownBy(() -> ImageBackbone.load(user(text).inputName("input_ids").build()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("model " + text + " has inputs [")
                .hasMessageContaining("but an image backbone feeds only 'input_ids'");
        assertThatThrownBy(() -> ImageBackbone.load(user(text).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("an image backbone feeds one: set backbone.image.input.name");
    }

    @Test
    void shouldFailNamingTheFileWhenTheOutputIsMissingOrCannotBePooledSo() {
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).outputName("pooled").build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model " + cnn + " has no output 'pooled' (outputs: [feature_map, logits]); "
                        + "set backbone.image.output.name to one of them");
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).pooling(ImagePooling.NONE).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backbone.image.pooling=none needs [batch, dimension]");
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).outputName("logits").pooling(ImagePooling.MEAN).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("has nothing to pool over; set it to none");
    }

    @Test
    void shouldFailWhenTheDimensionOrNormalisationDoesNotFit() {
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).dimension(512).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model " + cnn + " output 'feature_map' with mean pooling gives vectors of width 128 but "
                        + "backbone.image.dimension is 512");
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).mean(0.1, 0.2, 0.3).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.image.mean needs 1 or 1 values for model " + cnn + ", found [0.1, 0.2, 0.3]");
    }

    @Test
    void shouldFailNamingTheKeyWhenTheFileOrBundledNameIsWrong() {
        Path missing = dir.resolve("missing.onnx");
        assertThatThrownBy(() -> ImageBackbone.load(user(missing).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.image.model.path " + missing + " is not a readable file");
        assertThatThrownBy(() -> ImageBackbone.load(ImageBackboneSpec.builder().name("resnet-50").build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.image.name must be one of [fashion-cnn], found 'resnet-50' "
                        + "(or set backbone.image.model.path to load an ONNX file)");
    }

    @Test
    void shouldRejectBadSpecValuesNamingKeyAndValue() {
        assertThatThrownBy(() -> ImageBackboneSpec.builder().batchSize(0).build())
                .isInstanceOf(ConfigException.class).hasMessage("backbone.image.batch.size must be >= 1, found 0");
        assertThatThrownBy(() -> ImageBackboneSpec.builder().maxBytes(0).build())
                .isInstanceOf(ConfigException.class).hasMessage("backbone.image.max.bytes must be >= 1, found 0");
        assertThatThrownBy(() -> ImageBackboneSpec.builder().size(0, 5).build())
                .isInstanceOf(ConfigException.class).hasMessage("backbone.image.size must be at least 1x1, found 0x5");
        assertThatThrownBy(() -> ImagePooling.fromConfig("backbone.image.pooling", "avg"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.image.pooling must be one of [mean, max, flatten, none], found 'avg'");
        assertThatThrownBy(() -> ImageResize.fromConfig("backbone.image.resize", "fit"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.image.resize must be one of [exact, stretch, crop], found 'fit'");
        assertThatThrownBy(() -> ImageBackbone.load(user(cnn).std(0).build()))
                .isInstanceOf(ConfigException.class).hasMessage("backbone.image.std values must be finite and > 0, found [0.0]");
    }
}
