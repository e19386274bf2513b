package io.headwater.backbone;

import io.headwater.core.ConfigException;

/**
 * How an image backbone's output becomes one vector ({@code backbone.image.pooling}). A feature
 * map {@code [batch, channels, height, width]} ({@code [batch, height, width, channels]} for an
 * NHWC model) or a token sequence {@code [batch, tokens, dimension]} is pooled over its positions;
 * an output that is already {@code [batch, dimension]} is taken as it is.
 */
public enum ImagePooling {
    /** Average over the positions: global average pooling, as ResNet's head does. */
    MEAN,
    /** Maximum over the positions. */
    MAX,
    /** Every value of the output in order: for small maps whose layout matters. */
    FLATTEN,
    /** The output is {@code [batch, dimension]} already (a penultimate layer, say). */
    NONE;

    /** The value as written in configuration, e.g. {@code "mean"}. */
    public String configValue() {
        return ConfigValues.of(this);
    }

    /**
     * Parses a value of {@code key}, ignoring case and surrounding blanks.
     *
     * @throws ConfigException naming the key, the value and the accepted values
     */
    public static ImagePooling fromConfig(String key, String value) {
        return ConfigValues.parse(ImagePooling.class, key, value);
    }
}
