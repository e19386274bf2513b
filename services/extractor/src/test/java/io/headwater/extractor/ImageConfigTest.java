package io.headwater.extractor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.backbone.ImageBackboneSpec;
import io.headwater.backbone.ImagePooling;
import io.headwater.backbone.ImageResize;
import io.headwater.core.ConfigException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The backbone.image.* keys: parsed into an ImageBackboneSpec, bad values named with their key. */
class ImageConfigTest {

    private static ExtractorConfig config(String... keyValues) {
        return TestConfigs.extractor(keyValues);
    }

    @Test
    void shouldLoadNoImageBackboneByDefault() {
        assertThat(config().imageTasks()).isEmpty();
        ImageBackboneSpec spec = config().imageBackboneSpec();
        assertThat(spec.name()).isEqualTo("fashion-cnn");
        assertThat(spec.resize()).isEqualTo(ImageResize.EXACT);
        assertThat(spec.modelPath()).isEmpty();
    }

    @Test
    void shouldLeaveOneCoreToTheConsumerThreadUnlessThreadsAreSet() {
        int cores = Runtime.getRuntime().availableProcessors();
        assertThat(config().imageBackboneSpec().intraOpThreads()).isEqualTo(Math.max(1, cores - 1));
        assertThat(config(ExtractorConfig.IMAGE_THREADS, "3").imageBackboneSpec().intraOpThreads()).isEqualTo(3);
    }

    @Test
    void shouldParseAUserVisionModel() {
        ExtractorConfig c = config(ExtractorConfig.IMAGE_TASKS, "photos-.*",
                ExtractorConfig.IMAGE_MODEL_PATH, "/models/resnet18.onnx",
                ExtractorConfig.IMAGE_OUTPUT_NAME, "pooled", ExtractorConfig.IMAGE_POOLING, "none",
                ExtractorConfig.IMAGE_LAYOUT, "NHWC", ExtractorConfig.IMAGE_SIZE, "224x200",
                ExtractorConfig.IMAGE_MEAN, "0.485,0.456,0.406", ExtractorConfig.IMAGE_STD, "0.229, 0.224, 0.225",
                ExtractorConfig.IMAGE_RESIZE, "crop", ExtractorConfig.IMAGE_CONVERT_CHANNELS, "true");
        assertThat(c.imageTasks().orElseThrow().matcher("photos-1").matches()).isTrue();
        ImageBackboneSpec spec = c.imageBackboneSpec();
        assertThat(spec.modelPath()).contains(Path.of("/models/resnet18.onnx"));
        assertThat(spec.outputName()).contains("pooled");
        assertThat(spec.pooling()).contains(ImagePooling.NONE);
        assertThat(spec.channelsFirst()).contains(false);
        assertThat(spec.height()).hasValue(224);
        assertThat(spec.width()).hasValue(200);
        assertThat(spec.mean().orElseThrow()).containsExactly(0.485, 0.456, 0.406);
        assertThat(spec.std().orElseThrow()).containsExactly(0.229, 0.224, 0.225);
        assertThat(spec.resize()).isEqualTo(ImageResize.CROP);
        assertThat(spec.convertChannels()).isTrue();
        assertThat(config(ExtractorConfig.IMAGE_SIZE, "96").imageBackboneSpec().width()).hasValue(96);
    }

    @Test
    void shouldNameTheKeyAndValueOfBadSettings() {
        assertThatThrownBy(() -> config(ExtractorConfig.IMAGE_TASKS, "photos-(").imageTasks())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("backbone.image.tasks must be a regular expression, found 'photos-('");
        assertThatThrownBy(() -> config(ExtractorConfig.IMAGE_SIZE, "big").imageBackboneSpec())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.image.size must be HEIGHTxWIDTH or one number, found 'big'");
        assertThatThrownBy(() -> config(ExtractorConfig.IMAGE_MEAN, "0.5,grey").imageBackboneSpec())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.image.mean must be a list of numbers, found '0.5,grey'");
        assertThatThrownBy(() -> config(ExtractorConfig.IMAGE_NAME, "fashion-cnn",
                ExtractorConfig.IMAGE_MODEL_PATH, "/m.onnx").imageBackboneSpec())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("backbone.image.name picks a bundled image backbone and cannot be combined with "
                        + "backbone.image.model.path=/m.onnx");
        assertThatThrownBy(() -> config(ExtractorConfig.IMAGE_RESIZE, "fit"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backbone.image.resize").hasMessageContaining("fit");
    }
}
