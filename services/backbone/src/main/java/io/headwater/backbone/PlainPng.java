package io.headwater.backbone;

import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A fast decoder for the one kind of PNG most image streams carry: 8-bit greyscale or RGB, not
 * interlaced, no palette, no transparency, nothing but {@code IHDR}, {@code IDAT} and {@code IEND}
 * chunks. ImageIO decodes a 28 x 28 digit in about 50 microseconds, most of it setting up streams,
 * readers and rasters; this inflates and unfilters the rows directly.
 *
 * <p>It accepts only what it can check completely: the signature, every chunk's length and CRC,
 * the header's fields, a zlib stream that inflates to exactly the rows the header asks for and
 * ends (its Adler-32 checked) with the last {@code IDAT} byte, and a known filter on every row.
 * Anything else, valid or not (16-bit, palette, alpha, interlaced, other chunks, a bad CRC, a short
 * or long or damaged stream, more pixels than allowed), is not decoded here: {@link #decode}
 * returns null and the caller decodes with ImageIO, which accepts and rejects exactly as it did
 * without this path. What it decodes, ImageIO decodes to the same samples.
 */
final class PlainPng {

    /** Decoded samples, row-major and interleaved: {@code channels} bytes a pixel, 1 (grey) or 3 (RGB). */
    record Pixels(int width, int height, int channels, byte[] samples) {
    }

    private static final int IHDR = 0x49484452;
    private static final int IDAT = 0x49444154;
    private static final int IEND = 0x49454E44;

    /** One inflater per thread, reset between images: creating one costs a native allocation. */
    private static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(Inflater::new);

    private PlainPng() {
    }

    /**
     * The samples of a plain 8-bit grey or RGB PNG of at most {@code maxPixels} pixels, or null
     * for any other bytes (the caller falls back to ImageIO). The signature is not checked again.
     */
    static Pixels decode(byte[] png, long maxPixels) {
        int pos = 8;
        // IHDR: length 13, then width, height, bit depth, colour type, compression, filter, interlace.
        if (png.length < pos + 25 || readInt(png, pos) != 13 || readInt(png, pos + 4) != IHDR
                || !crcMatches(png, pos + 4, 17)) {
            return null;
        }
        int width = readInt(png, pos + 8);
        int height = readInt(png, pos + 12);
        int depth = png[pos + 16];
        int colourType = png[pos + 17];
        if (width <= 0 || height <= 0 || (long) width * height > maxPixels || depth != 8
                || (colourType != 0 && colourType != 2) || png[pos + 18] != 0 || png[pos + 19] != 0
                || png[pos + 20] != 0) {
            return null;
        }
        int channels = colourType == 0 ? 1 : 3;
        long stride = (long) width * channels;
        long rawLength = (stride + 1) * height;
        if (rawLength > Integer.MAX_VALUE - 16) {
            return null;
        }
        pos += 25;
        Inflater inflater = INFLATER.get();
        inflater.reset();
        byte[] raw = new byte[(int) rawLength];
        int produced = 0;
        boolean sawData = false;
        try {
            while (true) {
                if (pos + 12 > png.length) {
                    return null;
                }
                int length = readInt(png, pos);
                int type = readInt(png, pos + 4);
                if (length < 0 || length > png.length - pos - 12 || !crcMatches(png, pos + 4, length + 4)) {
                    return null;
                }
                if (type == IEND) {
                    // The chunk after the data must be IEND, empty, and the last bytes of the file.
                    if (!sawData || length != 0 || pos + 12 != png.length) {
                        return null;
                    }
                    break;
                }
                if (type != IDAT || inflater.finished()) {
                    return null;
                }
                sawData = true;
                inflater.setInput(png, pos + 8, length);
                while (!inflater.needsInput() && !inflater.finished()) {
                    if (produced == raw.length) {
                        // All rows are in: only the stream's end (its Adler-32) may follow, no more data.
                        if (inflater.inflate(new byte[1]) != 0) {
                            return null;
                        }
                    } else {
                        int remaining = inflater.getRemaining();
                        int n = inflater.inflate(raw, produced, raw.length - produced);
                        produced += n;
                        if (n == 0 && inflater.getRemaining() == remaining && !inflater.finished()
                                && !inflater.needsInput()) {
                            return null; // no progress (a preset dictionary wanted, say): ImageIO decides
                        }
                    }
                    if (inflater.needsDictionary()) {
                        return null;
                    }
                }
                if (inflater.finished() && inflater.getRemaining() != 0) {
                    return null;
                }
                pos += 12 + length;
            }
        } catch (DataFormatException e) {
            return null;
        }
        if (!inflater.finished() || produced != raw.length) {
            return null;
        }
        byte[] samples = unfilter(raw, (int) stride, height, channels);
        return samples == null ? null : new Pixels(width, height, channels, samples);
    }

    /** The rows without their filter bytes, each unfiltered against the one above; null for an unknown filter. */
    private static byte[] unfilter(byte[] raw, int stride, int height, int bpp) {
        byte[] out = new byte[stride * height];
        for (int y = 0; y < height; y++) {
            int in = y * (stride + 1);
            int filter = raw[in++];
            int row = y * stride;
            int up = row - stride;
            switch (filter) {
                case 0 -> System.arraycopy(raw, in, out, row, stride);
                case 1 -> {
                    for (int x = 0; x < stride; x++) {
                        int left = x >= bpp ? out[row + x - bpp] : 0;
                        out[row + x] = (byte) (raw[in + x] + left);
                    }
                }
                case 2 -> {
                    for (int x = 0; x < stride; x++) {
                        int above = y > 0 ? out[up + x] : 0;
                        out[row + x] = (byte) (raw[in + x] + above);
                    }
                }
                case 3 -> {
                    for (int x = 0; x < stride; x++) {
                        int left = x >= bpp ? out[row + x - bpp] & 0xFF : 0;
                        int above = y > 0 ? out[up + x] & 0xFF : 0;
                        out[row + x] = (byte) (raw[in + x] + ((left + above) >>> 1));
                    }
                }
                case 4 -> {
                    for (int x = 0; x < stride; x++) {
                        int a = x >= bpp ? out[row + x - bpp] & 0xFF : 0;
                        int b = y > 0 ? out[up + x] & 0xFF : 0;
                        int c = x >= bpp && y > 0 ? out[up + x - bpp] & 0xFF : 0;
                        out[row + x] = (byte) (raw[in + x] + paeth(a, b, c));
                    }
                }
                default -> {
                    return null;
                }
            }
        }
        return out;
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /** Whether the 4 bytes after {@code length} bytes from {@code offset} are their CRC-32. */
    private static boolean crcMatches(byte[] png, int offset, int length) {
        if (offset + length + 4 > png.length) {
            return false;
        }
        CRC32 crc = new CRC32();
        crc.update(png, offset, length);
        return (int) crc.getValue() == readInt(png, offset + length);
    }

    private static int readInt(byte[] b, int i) {
        return (b[i] & 0xFF) << 24 | (b[i + 1] & 0xFF) << 16 | (b[i + 2] & 0xFF) << 8 | (b[i + 3] & 0xFF);
    }
}
