package io.headwater.backbone;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Pre-processing for an image backbone: the encoded bytes of a PNG or JPEG to the float tensor
 * its input takes ({@link ImageInput}): decoded, checked, converted to the input's channels if
 * allowed, resized as {@link ImageResize} says, scaled to [0, 1], normalised with the input's mean
 * and standard deviation and laid out channels-first or channels-last. No model session: it can be
 * tested, and its errors provoked, without one.
 *
 * <p>Every way an image can be unusable is an {@link InvalidImage} whose kind says which: not a
 * PNG or JPEG, or not decodable ({@code image-format}); bytes that end before the image does
 * ({@code image-truncated}); a size other than the input's when resizing is off
 * ({@code image-size}); more bytes or pixels than allowed, checked from the header before any
 * pixel is decoded ({@code image-too-large}); the wrong number of channels
 * ({@code image-channels}).
 *
 * <pre>{@code
 * ImagePreprocessor pre = new ImagePreprocessor(input, ImageResize.EXACT, false, 1 << 20, 16_777_216, "fashion-cnn");
 * float[] tensor = pre.tensor(pngBytes);   // input.size() values, ready for the session
 * }</pre>
 *
 * <p>A plain 8-bit grey or RGB PNG (not interlaced, only {@code IHDR}, {@code IDAT} and
 * {@code IEND}, every CRC and the zlib stream intact) is decoded by {@link PlainPng}, ten times
 * faster than ImageIO; any other PNG, and every JPEG, by ImageIO. Both give the same floats, and
 * what the fast path does not take is accepted or refused by ImageIO as before.
 *
 * <p>Thread-safe: each call decodes with its own reader.
 */
public final class ImagePreprocessor {

    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final byte[] PNG_IEND = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};

    private final ImageInput input;
    private final ImageResize resize;
    private final boolean convertChannels;
    private final int maxBytes;
    private final long maxPixels;
    private final String backboneId;
    /** Whether plain 8-bit grey and RGB PNGs are decoded by {@link PlainPng} rather than ImageIO. */
    private final boolean fastPng;

    /**
     * @param input the tensor to produce
     * @param resize what to do with an image of another size
     * @param convertChannels whether grey becomes RGB (replicated), RGB becomes grey (ITU-R BT.601
     *     luma) and an alpha channel is dropped; if false such images are dead-lettered
     * @param maxBytes most encoded bytes accepted
     * @param maxPixels most pixels (width x height) accepted, read from the header before decoding
     * @param backboneId named in messages
     */
    public ImagePreprocessor(ImageInput input, ImageResize resize, boolean convertChannels, int maxBytes,
            long maxPixels, String backboneId) {
        this(input, resize, convertChannels, maxBytes, maxPixels, backboneId, true);
    }

    /** As the public constructor; {@code fastPng=false} decodes every PNG with ImageIO (tests compare the two). */
    ImagePreprocessor(ImageInput input, ImageResize resize, boolean convertChannels, int maxBytes, long maxPixels,
            String backboneId, boolean fastPng) {
        this.fastPng = fastPng;
        this.input = Objects.requireNonNull(input, "input cannot be null");
        this.resize = Objects.requireNonNull(resize, "resize cannot be null");
        this.convertChannels = convertChannels;
        this.maxBytes = maxBytes;
        this.maxPixels = maxPixels;
        this.backboneId = Objects.requireNonNull(backboneId, "backboneId cannot be null");
    }

    /** The tensor this produces. */
    public ImageInput input() {
        return input;
    }

    /**
     * The normalised input tensor of one image: {@link ImageInput#size()} values in the input's
     * layout.
     *
     * @throws InvalidImage if the image cannot be used; the message says why
     */
    public float[] tensor(byte[] encoded) {
        float[][] planes = planes(encoded);
        float[] out = new float[input.size()];
        int hw = input.height() * input.width();
        int c = input.channels();
        double[] mean = input.mean();
        double[] std = input.std();
        for (int ch = 0; ch < c; ch++) {
            float[] plane = planes[ch];
            float m = (float) mean[ch];
            float s = (float) (1.0 / std[ch]);
            for (int i = 0; i < hw; i++) {
                float v = (plane[i] - m) * s;
                out[input.channelsFirst() ? ch * hw + i : i * c + ch] = v;
            }
        }
        return out;
    }

    /**
     * The image resized and converted as for {@link #tensor}, scaled to [0, 1] but not normalised,
     * channels first: the raw pixels a from-scratch baseline learns from.
     *
     * @throws InvalidImage if the image cannot be used
     */
    public float[] pixels(byte[] encoded) {
        float[][] planes = planes(encoded);
        int hw = input.height() * input.width();
        float[] out = new float[input.size()];
        for (int ch = 0; ch < planes.length; ch++) {
            System.arraycopy(planes[ch], 0, out, ch * hw, hw);
        }
        return out;
    }

    /** The format of encoded bytes by their signature: {@code "png"}, {@code "jpeg"} or empty. */
    static String format(byte[] bytes) {
        if (startsWith(bytes, PNG_MAGIC)) {
            return "png";
        }
        if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xD8 && (bytes[2] & 0xFF) == 0xFF) {
            return "jpeg";
        }
        return "";
    }

    /** One [0, 1] plane per input channel, each height x width, row-major. */
    private float[][] planes(byte[] encoded) {
        Objects.requireNonNull(encoded, "encoded cannot be null");
        if (encoded.length > maxBytes) {
            throw new InvalidImage(InvalidImage.TOO_LARGE, "image is " + encoded.length
                    + " bytes, over backbone.image.max.bytes=" + maxBytes);
        }
        String format = format(encoded);
        if (format.isEmpty()) {
            throw new InvalidImage(InvalidImage.FORMAT, "not an image: the " + encoded.length
                    + " bytes are neither PNG nor JPEG (first bytes " + hexPrefix(encoded) + ")");
        }
        checkComplete(format, encoded);
        if (fastPng && format.equals("png")) {
            PlainPng.Pixels plain = PlainPng.decode(encoded, maxPixels);
            if (plain != null) {
                return fit(channels(plain, format), plain.height(), plain.width(), format);
            }
        }
        BufferedImage image = decode(format, encoded);
        float[][] planes = channels(image, format);
        return fit(planes, image.getHeight(), image.getWidth(), format);
    }

    /** A PNG must end with its IEND chunk and a JPEG with its EOI marker; anything shorter is cut off. */
    private static void checkComplete(String format, byte[] bytes) {
        boolean complete = format.equals("png")
                ? endsWith(bytes, PNG_IEND)
                : bytes.length >= 4 && (bytes[bytes.length - 2] & 0xFF) == 0xFF && (bytes[bytes.length - 1] & 0xFF) == 0xD9;
        if (!complete) {
            throw new InvalidImage(InvalidImage.TRUNCATED, "truncated " + format.toUpperCase(Locale.ROOT) + ": its "
                    + bytes.length + " bytes end without the " + (format.equals("png") ? "IEND chunk" : "EOI marker (FF D9)"));
        }
    }

    /** The JDK's reader providers, looked up once: a registry lookup per image costs more than decoding it. */
    private static final ImageReaderSpi PNG_READER = readerSpi("png");
    private static final ImageReaderSpi JPEG_READER = readerSpi("jpeg");

    private static ImageReaderSpi readerSpi(String format) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new IllegalStateException("This JVM has no ImageIO reader for " + format);
        }
        return readers.next().getOriginatingProvider();
    }

    private BufferedImage decode(String format, byte[] bytes) {
        ImageReader reader;
        try {
            reader = (format.equals("png") ? PNG_READER : JPEG_READER).createReaderInstance();
        } catch (IOException e) {
            throw new IllegalStateException("Failed to create an ImageIO reader for " + format, e);
        }
        List<String> warnings = new ArrayList<>(1);
        // In memory: ImageIO.createImageInputStream would cache the stream in a temporary file.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            long width = reader.getWidth(0);
            long height = reader.getHeight(0);
            if (width * height > maxPixels) {
                throw new InvalidImage(InvalidImage.TOO_LARGE, "image is " + width + " x " + height + " = "
                        + width * height + " pixels, over backbone.image.max.pixels=" + maxPixels);
            }
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            BufferedImage image = reader.read(0);
            if (!warnings.isEmpty()) {
                String warning = String.join("; ", warnings);
                throw new InvalidImage(warning.toLowerCase(Locale.ROOT).contains("premature end")
                        ? InvalidImage.TRUNCATED : InvalidImage.FORMAT,
                        "damaged " + format.toUpperCase(Locale.ROOT) + ": " + warning);
            }
            return image;
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidImage invalid) {
                throw invalid;
            }
            boolean eof = hasEof(e);
            throw new InvalidImage(eof ? InvalidImage.TRUNCATED : InvalidImage.FORMAT,
                    (eof ? "truncated " : "cannot decode ") + format.toUpperCase(Locale.ROOT) + ": " + describe(e));
        } finally {
            reader.dispose();
        }
    }

    /** The image's colour channels as [0, 1] planes, converted to the input's channel count if allowed. */
    private float[][] channels(BufferedImage image, String format) {
        ColorModel model = image.getColorModel();
        int colour;
        if (model instanceof IndexColorModel indexed) {
            colour = greyPalette(indexed) ? 1 : 3;
        } else {
            colour = model.getNumColorComponents();
        }
        boolean alpha = model.hasAlpha();
        int wanted = input.channels();
        if (colour != 1 && colour != 3) {
            throw new InvalidImage(InvalidImage.CHANNELS, format.toUpperCase(Locale.ROOT) + " has " + colour
                    + " colour channels (" + model.getColorSpace().getType() + " colour space); backbone "
                    + backboneId + " takes " + describeChannels(wanted));
        }
        checkChannels(colour, alpha);
        int h = image.getHeight();
        int w = image.getWidth();
        float[][] planes = new float[wanted][h * w];
        Raster raster = image.getRaster();
        if (colour == 1 && !(model instanceof IndexColorModel)) {
            // The raw grey samples: getRGB would pass them through a linear-to-sRGB conversion.
            float max = (1 << model.getComponentSize(0)) - 1;
            int[] samples = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            float[] grey = planes[0];
            for (int i = 0; i < samples.length; i++) {
                grey[i] = samples[i] / max;
            }
            for (int ch = 1; ch < wanted; ch++) {
                System.arraycopy(grey, 0, planes[ch], 0, grey.length);
            }
            return planes;
        }
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < rgb.length; i++) {
            float r = ((rgb[i] >> 16) & 0xFF) / 255f;
            float g = ((rgb[i] >> 8) & 0xFF) / 255f;
            float b = (rgb[i] & 0xFF) / 255f;
            if (wanted == 3) {
                planes[0][i] = r;
                planes[1][i] = g;
                planes[2][i] = b;
            } else {
                planes[0][i] = colour == 1 ? r : 0.299f * r + 0.587f * g + 0.114f * b;
            }
        }
        return planes;
    }

    /** Colour channels other than the input's, or an alpha channel, are refused unless conversion is on. */
    private void checkChannels(int colour, boolean alpha) {
        int wanted = input.channels();
        if ((colour != wanted || alpha) && !convertChannels) {
            throw new InvalidImage(InvalidImage.CHANNELS, "image has " + (colour + (alpha ? 1 : 0)) + " channel(s) ("
                    + describeChannels(colour) + (alpha ? " + alpha" : "") + ") but backbone " + backboneId + " takes "
                    + describeChannels(wanted) + "; set backbone.image.convert.channels=true to convert");
        }
    }

    /**
     * The planes of a plain PNG decoded by {@link PlainPng}: checked and converted as
     * {@link #channels(BufferedImage, String)} does, with the same arithmetic, so both paths give
     * the same floats.
     */
    private float[][] channels(PlainPng.Pixels image, String format) {
        int colour = image.channels();
        checkChannels(colour, false);
        int wanted = input.channels();
        int n = image.width() * image.height();
        byte[] samples = image.samples();
        float[][] planes = new float[wanted][n];
        if (colour == 1) {
            float max = 255;
            float[] grey = planes[0];
            for (int i = 0; i < n; i++) {
                grey[i] = (samples[i] & 0xFF) / max;
            }
            for (int ch = 1; ch < wanted; ch++) {
                System.arraycopy(grey, 0, planes[ch], 0, n);
            }
            return planes;
        }
        for (int i = 0, j = 0; i < n; i++, j += 3) {
            float r = (samples[j] & 0xFF) / 255f;
            float g = (samples[j + 1] & 0xFF) / 255f;
            float b = (samples[j + 2] & 0xFF) / 255f;
            if (wanted == 3) {
                planes[0][i] = r;
                planes[1][i] = g;
                planes[2][i] = b;
            } else {
                planes[0][i] = 0.299f * r + 0.587f * g + 0.114f * b;
            }
        }
        return planes;
    }

    /** The planes at the input's size, as {@link ImageResize} says. */
    private float[][] fit(float[][] planes, int h, int w, String format) {
        int th = input.height();
        int tw = input.width();
        if (h == th && w == tw) {
            return planes;
        }
        return switch (resize) {
            case EXACT -> throw new InvalidImage(InvalidImage.SIZE, "wrong size: " + format.toUpperCase(Locale.ROOT)
                    + " is " + w + " x " + h + " but backbone " + backboneId + " takes " + tw + " x " + th
                    + " (backbone.image.resize=exact)");
            case STRETCH -> resizeAll(planes, h, w, 0, 0, h, w, th, tw);
            case CROP -> {
                // Scale so the shorter side fits, then take the centre th x tw of the scaled image.
                double scale = Math.max((double) th / h, (double) tw / w);
                double cropH = th / scale;
                double cropW = tw / scale;
                yield resizeAll(planes, h, w, (h - cropH) / 2, (w - cropW) / 2, cropH, cropW, th, tw);
            }
        };
    }

    /** Bilinear resampling of the window (top, left, height x width) of each plane to th x tw, half-pixel centres. */
    private static float[][] resizeAll(float[][] planes, int h, int w, double top, double left, double height,
            double width, int th, int tw) {
        float[][] out = new float[planes.length][th * tw];
        double sy = height / th;
        double sx = width / tw;
        for (int y = 0; y < th; y++) {
            double fy = Math.min(Math.max(top + (y + 0.5) * sy - 0.5, 0), h - 1);
            int y0 = (int) fy;
            int y1 = Math.min(y0 + 1, h - 1);
            float dy = (float) (fy - y0);
            for (int x = 0; x < tw; x++) {
                double fx = Math.min(Math.max(left + (x + 0.5) * sx - 0.5, 0), w - 1);
                int x0 = (int) fx;
                int x1 = Math.min(x0 + 1, w - 1);
                float dx = (float) (fx - x0);
                for (int ch = 0; ch < planes.length; ch++) {
                    float[] p = planes[ch];
                    float a = p[y0 * w + x0] + dx * (p[y0 * w + x1] - p[y0 * w + x0]);
                    float b = p[y1 * w + x0] + dx * (p[y1 * w + x1] - p[y1 * w + x0]);
                    out[ch][y * tw + x] = a + dy * (b - a);
                }
            }
        }
        return out;
    }

    private static boolean greyPalette(IndexColorModel model) {
        for (int i = 0; i < model.getMapSize(); i++) {
            int r = model.getRed(i);
            if (r != model.getGreen(i) || r != model.getBlue(i)) {
                return false;
            }
        }
        return true;
    }

    private static String describeChannels(int channels) {
        return channels == 1 ? "1 (grey)" : channels == 3 ? "3 (RGB)" : String.valueOf(channels);
    }

    private static boolean hasEof(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.EOFException || String.valueOf(t.getMessage()).contains("EOF")) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        StringBuilder s = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable t = e.getCause(); t != null && s.length() < 300; t = t.getCause()) {
            s.append(": ").append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
        }
        return s.length() > 300 ? s.substring(0, 300) + "..." : s.toString();
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean endsWith(byte[] bytes, byte[] suffix) {
        if (bytes.length < suffix.length) {
            return false;
        }
        int offset = bytes.length - suffix.length;
        for (int i = 0; i < suffix.length; i++) {
            if (bytes[offset + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    private static String hexPrefix(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(8, bytes.length); i++) {
            s.append(String.format(Locale.ROOT, "%02x", bytes[i] & 0xFF));
        }
        return s.length() == 0 ? "none" : s.toString();
    }
}
