package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.util.Arrays;
import java.util.Objects;

/**
 * What an image backbone's input tensor takes: its name, channel count (1 grey or 3 RGB), height
 * and width, layout, and the per-channel mean and standard deviation that pixels scaled to [0, 1]
 * are normalised with: {@code x = (pixel / 255 - mean[c]) / std[c]}.
 *
 * @param name the graph's input name
 * @param channels 1 or 3
 * @param height rows of the input
 * @param width columns of the input
 * @param channelsFirst true for {@code [batch, channels, height, width]} (NCHW, PyTorch's),
 *     false for {@code [batch, height, width, channels]} (NHWC, TensorFlow's)
 * @param mean one value per channel
 * @param std one positive value per channel
 */
public record ImageInput(String name, int channels, int height, int width, boolean channelsFirst, double[] mean,
        double[] std) {

    public ImageInput {
        Objects.requireNonNull(name, "name cannot be null");
        Objects.requireNonNull(mean, "mean cannot be null");
        Objects.requireNonNull(std, "std cannot be null");
        if (channels != 1 && channels != 3) {
            throw new ConfigException("image input '" + name + "' must have 1 or 3 channels, found " + channels);
        }
        if (height < 1 || width < 1) {
            throw new ConfigException("image input '" + name + "' must be at least 1 x 1, found " + height + " x "
                    + width);
        }
        if (mean.length != channels || std.length != channels) {
            throw new ConfigException("backbone.image.mean and backbone.image.std need " + channels
                    + " value(s) for input '" + name + "', found " + Arrays.toString(mean) + " and "
                    + Arrays.toString(std));
        }
        for (double s : std) {
            if (!(s > 0) || !Double.isFinite(s)) {
                throw new ConfigException("backbone.image.std values must be finite and > 0, found "
                        + Arrays.toString(std));
            }
        }
        for (double m : mean) {
            if (!Double.isFinite(m)) {
                throw new ConfigException("backbone.image.mean values must be finite, found " + Arrays.toString(mean));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** Values in one image's tensor: channels x height x width. */
    public int size() {
        return channels * height * width;
    }

    /** The tensor shape of a batch of {@code n}. */
    public long[] shape(int n) {
        return channelsFirst ? new long[] {n, channels, height, width} : new long[] {n, height, width, channels};
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageInput other && name.equals(other.name) && channels == other.channels
                && height == other.height && width == other.width && channelsFirst == other.channelsFirst
                && Arrays.equals(mean, other.mean) && Arrays.equals(std, other.std);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, channels, height, width, channelsFirst, Arrays.hashCode(mean), Arrays.hashCode(std));
    }

    @Override
    public String toString() {
        return "ImageInput[" + name + " " + Arrays.toString(shape(-1)) + ", mean " + Arrays.toString(mean) + ", std "
                + Arrays.toString(std) + "]";
    }
}
