package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
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
}
