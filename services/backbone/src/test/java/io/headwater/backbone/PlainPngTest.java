package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The fast PNG path: what it decodes, ImageIO decodes to the same floats; everything it does not
 * take (other bit depths, palettes, alpha, interlacing, other chunks, bad CRCs, short, long or
 * damaged streams, unknown filters) goes to ImageIO, so each such image is accepted or
 * dead-lettered exactly as without the fast path.
 */
class PlainPngTest {

    private static final ImageInput GREY_6 = new ImageInput("image", 1, 6, 5, true, new double[] {0.5},
            new double[] {0.25});
    private static final ImageInput RGB_6 = new ImageInput("image", 3, 6, 5, false, new double[] {0.1, 0.2, 0.3},
            new double[] {0.5, 0.6, 0.7});

    /** Every preprocessor shape the comparison runs through: grey and RGB inputs, converting or not, resizing or not. */
    private static ImagePreprocessor[][] pairs() {
        ImageInput[] inputs = {GREY_6, RGB_6};
        ImagePreprocessor[][] out = new ImagePreprocessor[8][];
        int k = 0;
        for (ImageInput input : inputs) {
            for (boolean convert : new boolean[] {false, true}) {
                for (ImageResize resize : new ImageResize[] {ImageResize.EXACT, ImageResize.STRETCH}) {
                    out[k++] = new ImagePreprocessor[] {
                        new ImagePreprocessor(input, resize, convert, 100_000, 10_000, "t", true),
                        new ImagePreprocessor(input, resize, convert, 100_000, 10_000, "t", false)};
                }
            }
        }
        return out;
    }

    /** The fast and the ImageIO-only preprocessors agree on the image: the same floats or the same dead letter. */
    private static void assertSameAsImageIo(byte[] png) {
        for (ImagePreprocessor[] pair : pairs()) {
            Object fast = outcome(pair[0], png);
            Object imageIo = outcome(pair[1], png);
            assertThat(fast).as("%s", pair[0].input()).isEqualTo(imageIo);
        }
    }

    private static Object outcome(ImagePreprocessor pre, byte[] png) {
        Throwable t = catchThrowable(() -> pre.tensor(png));
        if (t == null) {
            return Arrays.toString(pre.tensor(png));
        }
        assertThat(t).isInstanceOf(InvalidImage.class);
        return ((InvalidImage) t).kind() + ": " + t.getMessage();
    }

    @Test
    void shouldDecodePlainGreyAndRgbToTheSameFloatsAsImageIo() throws IOException {
        Random random = new Random(7);
        for (int trial = 0; trial < 20; trial++) {
            int w = 1 + random.nextInt(9);
            int h = 1 + random.nextInt(9);
            boolean smooth = trial % 2 == 0; // smooth images make the writer pick every filter type
            BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = smooth ? (x * 20 + y * 7) & 0xFF : random.nextInt(256);
                    grey.getRaster().setSample(x, y, 0, v);
                    rgb.setRGB(x, y, smooth ? v << 16 | (255 - v) << 8 | (v * 3 & 0xFF) : random.nextInt(1 << 24));
                }
            }
            for (BufferedImage image : new BufferedImage[] {grey, rgb}) {
                byte[] png = ImagePreprocessorTest.encode(image, "png");
                assertThat(PlainPng.decode(png, 10_000)).as("plain %d x %d", w, h).isNotNull();
                assertSameAsImageIo(png);
            }
        }
    }

    @Test
    void shouldDecodeEveryFilterTypeAndDataSplitOverSeveralIdatChunks() {
        byte[] pixels = new byte[5 * 6 * 3];
        new Random(3).nextBytes(pixels);
        for (int filter = 0; filter <= 4; filter++) {
            byte[] png = png(5, 6, 2, 0, filtered(pixels, 5 * 3, 6, 3, filter), 7);
            PlainPng.Pixels decoded = PlainPng.decode(png, 10_000);
            assertThat(decoded).as("filter %d", filter).isNotNull();
            assertThat(decoded.samples()).isEqualTo(pixels);
            assertSameAsImageIo(png);
        }
    }

    @Test
    void shouldLeaveOtherPngKindsToImageIo() throws IOException {
        BufferedImage deep = new BufferedImage(5, 6, BufferedImage.TYPE_USHORT_GRAY);
        BufferedImage palette = new BufferedImage(5, 6, BufferedImage.TYPE_BYTE_INDEXED);
        BufferedImage binary = new BufferedImage(5, 6, BufferedImage.TYPE_BYTE_BINARY);
        BufferedImage alpha = new BufferedImage(5, 6, BufferedImage.TYPE_INT_ARGB);
        alpha.setRGB(1, 1, 0x80FF0000);
        palette.setRGB(2, 2, 0xFF0000);
        deep.getRaster().setSample(1, 0, 0, 65535);
        for (BufferedImage image : new BufferedImage[] {deep, palette, binary, alpha}) {
            byte[] png = ImagePreprocessorTest.encode(image, "png");
            assertThat(PlainPng.decode(png, 10_000)).as("type %d", image.getType()).isNull();
            assertSameAsImageIo(png);
        }
        byte[] interlaced = interlaced(ImagePreprocessorTest.grey(5, 6, (x, y) -> x * 40 + y));
        assertThat(PlainPng.decode(interlaced, 10_000)).isNull();
        assertSameAsImageIo(interlaced);
    }

    @Test
    void shouldLeaveAnyOtherChunkToImageIo() {
        byte[] raw = filtered(new byte[5 * 6], 5, 6, 1, 0);
        byte[] plain = png(5, 6, 0, 0, raw, 0);
        byte[] text = chunk("tEXt", "Comment\0hello".getBytes(StandardCharsets.ISO_8859_1));
        // After IHDR, before IEND.
        for (int at : new int[] {33, plain.length - 12}) {
            byte[] png = concat(Arrays.copyOf(plain, at), text, Arrays.copyOfRange(plain, at, plain.length));
            assertThat(PlainPng.decode(png, 10_000)).isNull();
            assertSameAsImageIo(png);
        }
    }

    @Test
    void shouldLeaveABadCrcToImageIo() {
        byte[] png = png(5, 6, 0, 0, filtered(new byte[5 * 6], 5, 6, 1, 0), 0);
        byte[] badIdatCrc = png.clone();
        badIdatCrc[png.length - 13] ^= 1; // last CRC byte of the IDAT chunk
        byte[] badIhdrCrc = png.clone();
        badIhdrCrc[32] ^= 1;
        for (byte[] bad : new byte[][] {badIdatCrc, badIhdrCrc}) {
            assertThat(PlainPng.decode(bad, 10_000)).isNull();
            assertSameAsImageIo(bad);
        }
    }

    @Test
    void shouldLeaveAShortLongOrDamagedStreamToImageIo() {
        byte[] pixels = new byte[5 * 6];
        new Random(5).nextBytes(pixels);
        byte[] rows = filtered(pixels, 5, 6, 1, 0);
        byte[] zlib = deflate(rows);
        byte[][] streams = {
            Arrays.copyOf(zlib, zlib.length - 9),               // rows missing: truncated IDAT
            Arrays.copyOf(zlib, zlib.length - 2),               // the Adler-32 cut short
            deflate(Arrays.copyOf(rows, rows.length - 5)),      // a complete stream of too few rows
            deflate(concat(rows, new byte[] {0, 1, 2, 3, 4, 5})), // a stream of too many
            concat(zlib, new byte[] {1, 2, 3}),                 // bytes after the stream's end
            damagedAdler(zlib),                                 // wrong Adler-32
            concat(new byte[] {0x78, 0x01}, new byte[] {(byte) 0xFF, (byte) 0xFF, 0x13}), // not deflate data
            new byte[0],                                        // empty IDAT
        };
        for (byte[] stream : streams) {
            byte[] png = concat(signatureAndHeader(5, 6, 0, 0), chunk("IDAT", stream), chunk("IEND", new byte[0]));
            assertThat(PlainPng.decode(png, 10_000)).isNull();
            assertSameAsImageIo(png);
        }
    }

    @Test
    void shouldLeaveOddChunkLayoutsAndPresetDictionariesToImageIo() {
        byte[] rows = filtered(new byte[5 * 6], 5, 6, 1, 0);
        byte[] head = signatureAndHeader(5, 6, 0, 0);
        byte[] idat = chunk("IDAT", deflate(rows));
        byte[] iend = chunk("IEND", new byte[0]);
        byte[] overlong = idat.clone();
        overlong[3] = (byte) 0x7F; // an IDAT length that runs past the end of the file
        byte[] presetDictionary = {0x78, (byte) 0xBB, 0, 0, 0, 1, 0x63, 0, 0, 0, 0, 0, 0};
        byte[][] pngs = {
            concat(head, iend),                                      // no IDAT
            concat(head, idat, chunk("IEND", new byte[] {1, 2, 3, 4}), iend), // IEND with data
            concat(head, idat, iend, iend),                          // something after IEND
            concat(head, overlong, iend),
            concat(head, chunk("IDAT", presetDictionary), iend),     // zlib asking for a preset dictionary
            Arrays.copyOf(head, 30),                                 // the header cut short
        };
        for (byte[] png : pngs) {
            assertThat(PlainPng.decode(png, 10_000)).isNull();
            if (png.length > 30) {
                assertSameAsImageIo(png);
            }
        }
    }

    @Test
    void shouldLeaveAnUnknownFilterToImageIo() {
        byte[] rows = filtered(new byte[5 * 6], 5, 6, 1, 0);
        rows[(5 + 1) * 3] = 5;
        byte[] png = png(5, 6, 0, 0, rows, 0);
        assertThat(PlainPng.decode(png, 10_000)).isNull();
        assertSameAsImageIo(png);
    }

    @Test
    void shouldLeaveTooManyPixelsAndOddHeadersToImageIo() {
        byte[] rows = filtered(new byte[5 * 6], 5, 6, 1, 0);
        byte[] png = png(5, 6, 0, 0, rows, 0);
        assertThat(PlainPng.decode(png, 29)).isNull();
        ImagePreprocessor small = new ImagePreprocessor(GREY_6, ImageResize.EXACT, false, 10_000, 29, "t", true);
        ImagePreprocessor smallImageIo = new ImagePreprocessor(GREY_6, ImageResize.EXACT, false, 10_000, 29, "t",
                false);
        assertThat(outcome(small, png)).isEqualTo(outcome(smallImageIo, png))
                .isEqualTo("image-too-large: image is 5 x 6 = 30 pixels, over backbone.image.max.pixels=29");
        // Compression method 1, filter method 1, interlace 2, colour type 3 without a palette, width 0.
        for (int[] odd : new int[][] {{5, 6, 0, 1, 0, 0}, {5, 6, 0, 0, 1, 0}, {5, 6, 0, 0, 0, 2}, {5, 6, 3, 0, 0, 0},
                {0, 6, 0, 0, 0, 0}}) {
            byte[] header = header(odd[0], odd[1], 8, odd[2], odd[3], odd[4], odd[5]);
            byte[] bad = concat(header, chunk("IDAT", deflate(rows)), chunk("IEND", new byte[0]));
            assertThat(PlainPng.decode(bad, 10_000)).as(Arrays.toString(odd)).isNull();
            assertSameAsImageIo(bad);
        }
    }

    // ---- PNG building ----

    /** A PNG of the filtered rows, the zlib stream split into IDAT chunks of {@code split} bytes (0: one chunk). */
    static byte[] png(int w, int h, int colourType, int interlace, byte[] rows, int split) {
        byte[] zlib = deflate(rows);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(signatureAndHeader(w, h, colourType, interlace));
        int step = split == 0 ? zlib.length : split;
        for (int i = 0; i < zlib.length; i += step) {
            out.writeBytes(chunk("IDAT", Arrays.copyOfRange(zlib, i, Math.min(zlib.length, i + step))));
        }
        out.writeBytes(chunk("IEND", new byte[0]));
        return out.toByteArray();
    }

    static byte[] signatureAndHeader(int w, int h, int colourType, int interlace) {
        return header(w, h, 8, colourType, 0, 0, interlace);
    }

    static byte[] header(int w, int h, int depth, int colourType, int compression, int filter, int interlace) {
        byte[] ihdr = {(byte) (w >>> 24), (byte) (w >>> 16), (byte) (w >>> 8), (byte) w, (byte) (h >>> 24),
            (byte) (h >>> 16), (byte) (h >>> 8), (byte) h, (byte) depth, (byte) colourType, (byte) compression,
            (byte) filter, (byte) interlace};
        return concat(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, chunk("IHDR", ihdr));
    }

    static byte[] chunk(String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        int c = (int) crc.getValue();
        int n = data.length;
        return concat(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n}, t, data,
                new byte[] {(byte) (c >>> 24), (byte) (c >>> 16), (byte) (c >>> 8), (byte) c});
    }

    /** Rows of {@code stride} bytes, each with the given filter applied and its filter byte in front. */
    static byte[] filtered(byte[] pixels, int stride, int h, int bpp, int filter) {
        byte[] out = new byte[(stride + 1) * h];
        for (int y = 0; y < h; y++) {
            out[y * (stride + 1)] = (byte) filter;
            for (int x = 0; x < stride; x++) {
                int v = pixels[y * stride + x] & 0xFF;
                int a = x >= bpp ? pixels[y * stride + x - bpp] & 0xFF : 0;
                int b = y > 0 ? pixels[(y - 1) * stride + x] & 0xFF : 0;
                int c = x >= bpp && y > 0 ? pixels[(y - 1) * stride + x - bpp] & 0xFF : 0;
                int predicted = switch (filter) {
                    case 0 -> 0;
                    case 1 -> a;
                    case 2 -> b;
                    case 3 -> (a + b) >>> 1;
                    default -> {
                        int p = a + b - c;
                        int pa = Math.abs(p - a);
                        int pb = Math.abs(p - b);
                        int pc = Math.abs(p - c);
                        yield pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                    }
                };
                out[y * (stride + 1) + 1 + x] = (byte) (v - predicted);
            }
        }
        return out;
    }

    static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater();
        deflater.setInput(data);
        deflater.finish();
        byte[] buffer = new byte[data.length + 64];
        int n = deflater.deflate(buffer);
        deflater.end();
        return Arrays.copyOf(buffer, n);
    }

    private static byte[] damagedAdler(byte[] zlib) {
        byte[] out = zlib.clone();
        out[out.length - 1] ^= 0x01;
        return out;
    }

    private static byte[] interlaced(BufferedImage image) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        byte[] png = out.toByteArray();
        assertThat(png[28]).as("interlace method").isEqualTo((byte) 1);
        return png;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
