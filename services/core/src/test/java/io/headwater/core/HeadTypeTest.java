package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class HeadTypeTest {

    @Test
    void shouldNameTheMissingModuleWhenSgdIsNotOnTheClassPath() {
        // core alone has no HeadProvider for sgd
        assertThat(HeadType.SGD.available()).isFalse();
        assertThatThrownBy(() -> HeadType.SGD.create(384, HeadOptions.defaults()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("head type sgd needs headwater-sgd on the class path");
        assertThatThrownBy(() -> HeadType.SGD.decode(ByteBuffer.allocate(8)))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void shouldFindTypesByIdAndListTheKnownOnes() {
        assertThat(HeadType.of("SGD")).isEqualTo(HeadType.SGD);
        assertThat(HeadType.LDA.available()).isTrue();
        assertThatThrownBy(() -> HeadType.of("svm")).hasMessage("unknown head type 'svm', known: lda, sgd");
    }
}
