package io.headwater.backbone;

import io.headwater.core.BadRecordException;
import java.util.List;
import java.util.Objects;

/**
 * Encoded image bytes that cannot be fed to an image backbone. The message is the reason a
 * dead-letter record carries; {@link #kind()} is its short class, for headers and metrics.
 *
 * <pre>{@code
 * try {
 *     float[] tensor = preprocessor.tensor(bytes);
 * } catch (InvalidImage e) {
 *     deadLetter(record, e.kind(), e.getMessage()); // e.g. "image-truncated"
 * }
 * }</pre>
 */
public final class InvalidImage extends BadRecordException {
    private static final long serialVersionUID = 1L;

    /** Neither PNG nor JPEG, not valid base64, or not decodable. */
    public static final String FORMAT = "image-format";
    /** A PNG or JPEG whose bytes stop before the image ends. */
    public static final String TRUNCATED = "image-truncated";
    /** Width and height other than the backbone's input, with {@code backbone.image.resize=exact}. */
    public static final String SIZE = "image-size";
    /** More encoded bytes or pixels than the configured limits. */
    public static final String TOO_LARGE = "image-too-large";
    /** Grey where the backbone takes colour, colour where it takes grey, or an alpha channel. */
    public static final String CHANNELS = "image-channels";
    /** Every kind, in a stable order, so each metric series can be registered up front. */
    public static final List<String> KINDS = List.of(FORMAT, TRUNCATED, SIZE, TOO_LARGE, CHANNELS);

    private final String kind;

    public InvalidImage(String kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind cannot be null");
    }

    /** One of {@link #KINDS}. */
    public String kind() {
        return kind;
    }
}
