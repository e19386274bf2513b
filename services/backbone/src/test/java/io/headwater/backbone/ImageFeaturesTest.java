package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Pooling of image backbone outputs, on hand-made tensors. */
class ImageFeaturesTest {

    // Two images, 2 channels, 1 x 2 positions (NCHW): image 0 channel 0 = {1, 3}, channel 1 = {2, 6}.
    private static final float[] NCHW = {1, 3, 2, 6, 0, 0, -1, -3};
    private static final long[] SHAPE = {2, 2, 1, 2};

    @Test
    void shouldAverageAndMaxOverPositionsOfEachChannel() {
        float[][] mean = ImageFeatures.pool(ImagePooling.MEAN, NCHW, SHAPE, 1, false);
        assertThat(mean[0]).containsExactly(2f, 4f);
        assertThat(mean[1]).containsExactly(0f, -2f);
        float[][] max = ImageFeatures.pool(ImagePooling.MAX, NCHW, SHAPE, 1, false);
        assertThat(max[0]).containsExactly(3f, 6f);
        assertThat(max[1]).containsExactly(0f, -1f);
    }

    @Test
    void shouldPoolChannelsLastWhenTheFeatureAxisIsLast() {
        // One image, 2 positions x 3 channels (NHWC [1, 1, 2, 3]).
        float[] nhwc = {1, 2, 3, 3, 4, 5};
        float[][] mean = ImageFeatures.pool(ImagePooling.MEAN, nhwc, new long[] {1, 1, 2, 3}, 3, false);
        assertThat(mean[0]).containsExactly(2f, 3f, 4f);
    }

    @Test
    void shouldFlattenRowsAndL2NormaliseWhenAsked() {
        float[][] flat = ImageFeatures.pool(ImagePooling.FLATTEN, NCHW, SHAPE, 1, false);
        assertThat(flat[0]).containsExactly(1f, 3f, 2f, 6f);
        float[][] unit = ImageFeatures.pool(ImagePooling.NONE, new float[] {3, 4, 0, 0}, new long[] {2, 2}, 1, true);
        assertThat(unit[0][0]).isCloseTo(0.6f, within(1e-6f));
        assertThat(unit[0][1]).isCloseTo(0.8f, within(1e-6f));
        assertThat(unit[1]).containsExactly(0f, 0f);
    }
}
