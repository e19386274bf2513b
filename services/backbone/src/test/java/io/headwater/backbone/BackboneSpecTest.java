package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BackboneSpecTest {

    @Test
    void shouldUseMiniLmWithDefaultSizes() {
        // when
        BackboneSpec spec = BackboneSpec.defaults();

        // then
        assertThat(spec).isEqualTo(new BackboneSpec("all-minilm-l6-v2-q", 256, 32, 0));
    }

    @Test
    void shouldRejectBatchSizeBelowOneNamingKeyAndValue() {
        assertThatThrownBy(() -> new BackboneSpec("all-minilm-l6-v2-q", 256, 0, 0))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.batch.size must be >= 1, found 0");
    }

    @Test
    void shouldRejectMaxTokensOutsideRange() {
        assertThatThrownBy(() -> new BackboneSpec("all-minilm-l6-v2-q", 7, 32, 0))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.max.tokens must be in [8, 512], found 7");
        assertThatThrownBy(() -> new BackboneSpec("all-minilm-l6-v2-q", 513, 32, 0))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.max.tokens must be in [8, 512], found 513");
    }

    @Test
    void shouldRejectNegativeThreads() {
        assertThatThrownBy(() -> new BackboneSpec("all-minilm-l6-v2-q", 256, 32, -1))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.threads must be >= 0, found -1");
    }

    @Test
    void shouldRejectBlankName() {
        assertThatThrownBy(() -> new BackboneSpec(" ", 256, 32, 0))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backbone.name");
    }

    @Test
    void shouldBuildFromDefaultsAndEqualTheFourArgumentSpec() {
        // when
        BackboneSpec built = BackboneSpec.builder().maxTokens(128).batchSize(64).intraOpThreads(2).build();

        // then
        assertThat(built).isEqualTo(new BackboneSpec("all-minilm-l6-v2-q", 128, 64, 2));
        assertThat(built.hashCode()).isEqualTo(new BackboneSpec("all-minilm-l6-v2-q", 128, 64, 2).hashCode());
        assertThat(built.provider()).isEqualTo(ExecutionProvider.AUTO);
        assertThat(built.deviceId()).isZero();
        assertThat(built.dimension()).isEmpty();
        assertThat(built.userModel()).isEmpty();
    }

    @Test
    void shouldKeepEverySettingThroughToBuilder() {
        // given
        UserModel user = UserModel.builder(Path.of("/m/e5.onnx"), Path.of("/m/tokenizer.json"))
                .pooling(PoolingMode.CLS).build();
        BackboneSpec spec = BackboneSpec.builder().name("all-minilm-l6-v2").provider(ExecutionProvider.CUDA)
                .deviceId(1).dimension(384).userModel(user).build();

        // when
        BackboneSpec copy = spec.toBuilder().build();

        // then
        assertThat(copy).isEqualTo(spec);
        assertThat(copy.deviceId()).isEqualTo(1);
        assertThat(copy.dimension()).hasValue(384);
        assertThat(copy.userModel()).contains(user);
        assertThat(copy.toBuilder().bundled().noDimensionCheck().build().userModel()).isEmpty();
        assertThat(user.id()).isEqualTo("e5");
    }

    @Test
    void shouldRejectNegativeDeviceAndNonPositiveDimensionNamingKeys() {
        assertThatThrownBy(() -> BackboneSpec.builder().deviceId(-1).build())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.device.id must be >= 0, found -1");
        assertThatThrownBy(() -> BackboneSpec.builder().dimension(0).build())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.dimension must be >= 1, found 0");
    }

    @Test
    void shouldRejectTensorNamesThatCollide() {
        assertThatThrownBy(() -> new TensorNames("ids", "ids", "token_type_ids", "last_hidden_state"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("backbone.input.ids.name, backbone.attention.mask.name and "
                        + "backbone.token.type.ids.name must differ");
    }
}
