package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadArtifactTest {

    static HeadArtifact twoClassHead() {
        return new HeadArtifact(List.of("ham", "spam"), List.of(new DenseLayer(3, 2,
                new float[] {1, 0, 0, 0, 1, 0}, new float[] {0f, 0.5f}, DenseLayer.Activation.SOFTMAX)));
    }

    @Test
    void shouldRoundTripThroughBinaryFormat() {
        HeadArtifact head = twoClassHead();
        HeadArtifact copy = HeadArtifact.decode(head.encode());
        assertThat(copy).isEqualTo(head);
        assertThat(copy.labels()).containsExactly("ham", "spam");
    }

    @Test
    void shouldComputeSoftmaxOfAffineScores() {
        float[] p = twoClassHead().probabilities(new float[] {2, 1, 7});
        double e0 = Math.exp(2);
        double e1 = Math.exp(1.5);
        assertThat((double) p[0]).isCloseTo(e0 / (e0 + e1), org.assertj.core.api.Assertions.within(1e-6));
        assertThat(twoClassHead().predict(new float[] {2, 1, 7})).isEqualTo(0);
    }

    @Test
    void shouldRejectTruncatedArtifactWithReason() {
        byte[] bytes = twoClassHead().encode();
        assertThatThrownBy(() -> HeadArtifact.decode(Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(BadRecordException.class)
                .hasMessageContaining("does not fit");
    }

    @Test
    void shouldRejectNonFiniteWeights() {
        assertThatThrownBy(() -> new HeadArtifact(List.of("a", "b"), List.of(new DenseLayer(1, 2,
                new float[] {1, Float.NaN}, new float[] {0, 0}, DenseLayer.Activation.SOFTMAX))))
                .isInstanceOf(BadRecordException.class)
                .hasMessageContaining("non-finite value NaN at index 1");
    }

    @Test
    void shouldRejectLabelCountThatDoesNotMatchOutputs() {
        assertThatThrownBy(() -> new HeadArtifact(List.of("a", "b", "c"), twoClassHead().layers()))
                .isInstanceOf(BadRecordException.class)
                .hasMessage("last layer has 2 outputs for 3 labels");
    }

    @Test
    void shouldRejectBadMagic() {
        byte[] bytes = twoClassHead().encode();
        bytes[0] ^= 0x55;
        assertThatThrownBy(() -> HeadArtifact.decode(bytes)).hasMessageContaining("bad magic");
    }
}
