package io.headwater.backbone;

import io.headwater.core.ConfigException;

/** What an image backbone does with an image whose size is not its input's ({@code backbone.image.resize}). */
public enum ImageResize {
    /** Nothing: the image must have the input's width and height, else it is dead-lettered. */
    EXACT,
    /** Scales width and height independently to the input's (bilinear), changing the aspect ratio. */
    STRETCH,
    /** Scales the shorter side to the input's (bilinear), then cuts the centre out: torchvision's way. */
    CROP;

    /** The value as written in configuration, e.g. {@code "exact"}. */
    public String configValue() {
        return ConfigValues.of(this);
    }

    /**
     * Parses a value of {@code key}, ignoring case and surrounding blanks.
     *
     * @throws ConfigException naming the key, the value and the accepted values
     */
    public static ImageResize fromConfig(String key, String value) {
        return ConfigValues.parse(ImageResize.class, key, value);
    }
}
