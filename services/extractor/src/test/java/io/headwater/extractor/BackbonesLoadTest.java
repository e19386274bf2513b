package io.headwater.extractor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.Embedder;
import io.headwater.backbone.ImageBackbone;
import io.headwater.core.ConfigException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Loading every backbone of a config: all of them, or none left open when one fails. */
class BackbonesLoadTest {

    @Test
    void shouldLoadTheDefaultTheImageAndEachNamedBackbone() {
        try (Backbones b = Backbones.load(TestConfigs.extractor(ExtractorConfig.IMAGE_TASKS, "photos-.*",
                ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "bge-.*",
                "backbone.bge.name", "bge-small-en-v15-q"))) {
            assertThat(b.text().id()).isEqualTo("all-minilm-l6-v2-q");
            assertThat(b.image().orElseThrow().id()).isEqualTo("fashion-cnn");
            assertThat(b.named()).containsOnlyKeys("bge");
            assertThat(b.named().get("bge").id()).isEqualTo("bge-small-en-v15-q");
        }
    }

    @Test
    void shouldCloseWhatItLoadedWhenALaterBackboneFailsAndNameTheKey() {
        List<Embedder> loaded = new ArrayList<>();
        assertThatThrownBy(() -> Backbones.load(TestConfigs.extractor(ExtractorConfig.IMAGE_TASKS, "photos-.*",
                ExtractorConfig.BACKBONES, "broken", "backbone.broken.tasks", "b-.*",
                "backbone.broken.model.path", "/nonexistent/broken.onnx"), loaded))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backbone.broken.model.path")
                .hasMessageContaining("/nonexistent/broken.onnx");
        // The default text and the image backbone had loaded; both were closed before the failure was thrown.
        assertThat(loaded).hasSize(2);
        assertThatThrownBy(() -> ((Backbone) loaded.get(0)).embed(List.of("x")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        assertThatThrownBy(() -> ((ImageBackbone) loaded.get(1)).embed(List.of(new float[28 * 28])))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    }

    @Test
    void shouldNameANamedImageBackbonesOwnKeyWhenItsModelIsMissing() {
        assertThatThrownBy(() -> Backbones.load(TestConfigs.extractor(ExtractorConfig.BACKBONES, "scans",
                "backbone.scans.tasks", "scan-.*", "backbone.scans.kind", "image",
                "backbone.scans.model.path", "/nonexistent/scans.onnx")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backbone.scans.model.path")
                .hasMessageNotContaining("backbone.image.model.path");
    }

    @Test
    void shouldRefuseABadSettingBeforeLoadingAnyModel() {
        List<Embedder> loaded = new ArrayList<>();
        assertThatThrownBy(() -> Backbones.load(TestConfigs.extractor(ExtractorConfig.IMAGE_TASKS, "photos-("),
                loaded)).isInstanceOf(ConfigException.class).hasMessageContaining("photos-(");
        assertThat(loaded).isEmpty();
    }
}
