package io.headwater.extractor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.backbone.BackboneSpec;
import io.headwater.backbone.ExecutionProvider;
import io.headwater.backbone.ImageBackboneSpec;
import io.headwater.backbone.ImageResize;
import io.headwater.backbone.PoolingMode;
import io.headwater.core.ConfigException;
import io.headwater.kafka.HeadwaterConfigs;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.junit.jupiter.api.Test;

/** The backbones key and each backbone.<name>.* key: parsed into named backbones, bad ones named with key and value. */
class NamedBackbonesConfigTest {

    private static ExtractorConfig config(String... keyValues) {
        return TestConfigs.extractor(keyValues);
    }

    @Test
    void shouldHaveNoNamedBackbonesByDefault() {
        assertThat(config().namedBackbones()).isEmpty();
        assertThat(ExtractorConfig.CONFIG.configKeys().get(ExtractorConfig.BACKBONES).defaultValue).isEqualTo(List.of());
    }

    @Test
    void shouldParseNamedTextAndImageBackbonesInTheirOrder() {
        // given: a text backbone with its own settings and an image one
        ExtractorConfig c = config(ExtractorConfig.BACKBONES, "bge, photos",
                "backbone.bge.tasks", "bge-.*", "backbone.bge.name", "bge-small-en-v15-q",
                "backbone.bge.threads", "3", "backbone.bge.max.tokens", "64",
                "backbone.photos.tasks", "photos-.*", "backbone.photos.kind", "IMAGE",
                "backbone.photos.size", "32x30", "backbone.photos.resize", "stretch",
                "backbone.photos.threads", "2", ExtractorConfig.BACKBONE_PROVIDER, "cpu");

        // when
        List<NamedBackbone> named = c.namedBackbones();

        // then
        assertThat(named).extracting(NamedBackbone::name).containsExactly("bge", "photos");
        NamedBackbone bge = named.get(0);
        assertThat(bge.isImage()).isFalse();
        assertThat(bge.tasks().pattern()).isEqualTo("bge-.*");
        assertThat(bge.tasksKey()).isEqualTo("backbone.bge.tasks");
        BackboneSpec text = bge.text().orElseThrow();
        assertThat(text.name()).isEqualTo("bge-small-en-v15-q");
        assertThat(text.intraOpThreads()).isEqualTo(3);
        assertThat(text.maxTokens()).isEqualTo(64);
        // unset keys take the default backbone key's default, not its value
        assertThat(text.batchSize()).isEqualTo(BackboneSpec.defaults().batchSize());
        assertThat(text.provider()).isEqualTo(ExecutionProvider.AUTO);
        NamedBackbone photos = named.get(1);
        assertThat(photos.isImage()).isTrue();
        ImageBackboneSpec image = photos.image().orElseThrow();
        assertThat(image.name()).isEqualTo("fashion-cnn");
        assertThat(image.height()).hasValue(32);
        assertThat(image.width()).hasValue(30);
        assertThat(image.resize()).isEqualTo(ImageResize.STRETCH);
        assertThat(image.intraOpThreads()).isEqualTo(2);
        // an image backbone runs where backbone.provider says
        assertThat(image.provider()).isEqualTo(ExecutionProvider.CPU);
        // the default backbone is untouched
        assertThat(c.backboneSpec()).isEqualTo(BackboneSpec.defaults().toBuilder().provider(ExecutionProvider.CPU).build());
    }

    @Test
    void shouldParseANamedModelFileWithEveryDefaultBackboneKeyUnderItsPrefix() {
        ExtractorConfig c = config(ExtractorConfig.BACKBONES, "mine", "backbone.mine.tasks", "mine",
                "backbone.mine.model.path", "/models/e5.onnx", "backbone.mine.pooling", "cls",
                "backbone.mine.model.id", "e5-small", "backbone.mine.output.name", "hidden");

        BackboneSpec spec = c.namedBackbones().get(0).text().orElseThrow();

        assertThat(spec.userModel().orElseThrow().id()).isEqualTo("e5-small");
        assertThat(spec.userModel().orElseThrow().pooling()).isEqualTo(PoolingMode.CLS);
        assertThat(spec.userModel().orElseThrow().tokenizerPath()).isEqualTo(Path.of("/models/tokenizer.json"));
        assertThat(spec.userModel().orElseThrow().names().output()).isEqualTo("hidden");
    }

    @Test
    void shouldReuseTheDefaultBackbonesDefinitionsUnderEachPrefix() {
        // every text key, e.g. backbone.threads -> backbone.bge.threads, with its type, default and validator
        assertThat(ExtractorConfig.TEXT_KEYS).contains(ExtractorConfig.BACKBONE_NAME, ExtractorConfig.BACKBONE_THREADS,
                ExtractorConfig.BACKBONE_MODEL_PATH, ExtractorConfig.BACKBONE_PROVIDER)
                .doesNotContain(ExtractorConfig.IMAGE_NAME);
        assertThat(ExtractorConfig.IMAGE_KEYS).contains(ExtractorConfig.IMAGE_NAME, ExtractorConfig.IMAGE_SIZE)
                .doesNotContain(ExtractorConfig.IMAGE_TASKS, ExtractorConfig.BACKBONE_NAME);
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "bge",
                "backbone.bge.max.tokens", "4").namedBackbones())
                .isInstanceOf(ConfigException.class).hasMessageContaining("backbone.bge.max.tokens")
                .hasMessageContaining("4");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "bge",
                "backbone.bge.provider", "tpu").namedBackbones())
                .isInstanceOf(ConfigException.class).hasMessageContaining("backbone.bge.provider")
                .hasMessageContaining("tpu");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "pics", "backbone.pics.tasks", "p",
                "backbone.pics.kind", "image", "backbone.pics.resize", "squash").namedBackbones())
                .isInstanceOf(ConfigException.class).hasMessageContaining("backbone.pics.resize")
                .hasMessageContaining("squash");
    }

    @Test
    void shouldNameKeyAndValueOfEveryNamedSpecificError() {
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "pics", "backbone.pics.tasks", "p",
                "backbone.pics.kind", "image", "backbone.pics.size", "big").namedBackbones())
                .hasMessage("backbone.pics.size must be HEIGHTxWIDTH or one number, found 'big'");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "pics", "backbone.pics.tasks", "p",
                "backbone.pics.kind", "image", "backbone.pics.mean", "0.5,grey").namedBackbones())
                .hasMessage("backbone.pics.mean must be a list of numbers, found '0.5,grey'");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "b",
                "backbone.bge.pooling", "cls").namedBackbones())
                .hasMessage("backbone.bge.pooling applies only to a model loaded from backbone.bge.model.path, which "
                        + "is not set; found backbone.bge.pooling=cls");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "b",
                "backbone.bge.name", "bge-small-en-v15-q", "backbone.bge.model.path", "/m.onnx").namedBackbones())
                .hasMessageStartingWith("backbone.bge.name picks a bundled backbone and cannot be combined with "
                        + "backbone.bge.model.path=/m.onnx");
    }

    @Test
    void shouldRefuseAMissingOrInvalidTasksRegex() {
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("backbone.bge.tasks is required for each name in backbones=bge");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", " ").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.bge.tasks must be a regular expression of task ids, found ''");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "bge-(").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("backbone.bge.tasks must be a regular expression, found 'bge-('");
    }

    @Test
    void shouldRefuseAnUnknownKind() {
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "b",
                "backbone.bge.kind", "audio").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backbone.bge.kind").hasMessageContaining("audio");
    }

    @Test
    void shouldRefuseAKeyOfTheOtherKind() {
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "pics", "backbone.pics.tasks", "p",
                "backbone.pics.kind", "image", "backbone.pics.max.tokens", "64").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.pics.max.tokens is not a key of an image backbone (backbone.pics.kind=image); "
                        + "found backbone.pics.max.tokens=64");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "b",
                "backbone.bge.size", "28").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.bge.size is not a key of a text backbone (backbone.bge.kind=text); "
                        + "found backbone.bge.size=28");
    }

    @Test
    void shouldRefuseAnEmptyDuplicatedReservedOrMalformedName() {
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge,,photos").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbones must not hold an empty name, found backbones=bge,,photos");
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "bge,bge", "backbone.bge.tasks", "b").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbones names 'bge' twice, found backbones=bge,bge");
        for (String reserved : List.of("image", "name", "model", "threads", "max", "provider", "Image")) {
            assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, reserved).namedBackbones())
                    .as(reserved).isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("backbones cannot use the reserved name '" + reserved + "'")
                    .hasMessageEndingWith("found backbones=" + reserved);
        }
        assertThatThrownBy(() -> config(ExtractorConfig.BACKBONES, "a.b").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("found 'a.b' in backbones=a.b");
    }

    @Test
    void shouldReserveTheFirstWordOfEveryDefaultBackboneKey() {
        assertThat(ExtractorConfig.RESERVED_NAMES).contains("image", "name", "max", "batch", "threads", "provider",
                "device", "dimension", "model", "tokenizer", "pooling", "row", "input", "attention", "token", "output");
    }

    @Test
    void shouldRefuseAKeyOfABackboneThatIsNotNamed() {
        assertThatThrownBy(() -> config("backbone.bge.name", "bge-small-en-v15-q").namedBackbones())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.bge.name is set but 'bge' is not a name in backbones=; "
                        + "found backbone.bge.name=bge-small-en-v15-q");
    }

    @Test
    void shouldKeepBackbonesKeysFromTheKafkaClients() {
        ExtractorConfig c = config(ExtractorConfig.BACKBONES, "bge", "backbone.bge.tasks", "b");
        assertThat(c.clientProperties()).doesNotContainKeys(ExtractorConfig.BACKBONES, "backbone.bge.tasks");
    }

    @Test
    void shouldDocumentTheNamedOnlyKeys() {
        AbstractConfig parsed = HeadwaterConfigs.parse(ExtractorConfig.namedBackboneKeys("x"),
                Map.of("backbone.x.tasks", "t"));
        assertThat(parsed.getString("backbone.x.kind")).isEqualTo("text");
    }
}
