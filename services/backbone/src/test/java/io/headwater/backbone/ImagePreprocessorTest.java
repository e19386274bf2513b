package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Decoding, checking, converting, resizing and normalising images without a model session: every
 * dead-letter kind provoked with a real encoded file that has the fault.
 */
class ImagePreprocessorTest {

    private static final ImageInput GREY_4 = new ImageInput("image", 1, 4, 4, true, new double[] {0.5},
            new double[] {0.25});
    private static final ImageInput RGB_2_NHWC = new ImageInput("pixels", 3, 2, 2, false, new double[] {0, 0, 0},
            new double[] {1, 1, 1});

    private static ImagePreprocessor exact(ImageInput input) {
        return new ImagePreprocessor(input, ImageResize.EXACT, false, 10_000, 10_000, "test-cnn");
    }

    @Test
    void shouldNormaliseGreyPngWithTheInputsMeanAndStd() throws IOException {
        BufferedImage image = grey(4, 4, (x, y) -> x == 0 ? 0 : 255);
        float[] tensor = exact(GREY_4).tensor(encode(image, "png"));
        assertThat(tensor).hasSize(16);
        assertThat(tensor[0]).isCloseTo((0f - 0.5f) / 0.25f, within(1e-6f));
        assertThat(tensor[1]).isCloseTo((1f - 0.5f) / 0.25f, within(1e-6f));
        assertThat(exact(GREY_4).pixels(encode(image, "png"))[1]).isEqualTo(1f);
    }

    @Test
    void shouldLayOutRgbChannelsLastForAnNhwcInput() throws IOException {
        BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 0xFF0000);
        image.setRGB(1, 0, 0x00FF00);
        float[] tensor = exact(RGB_2_NHWC).tensor(encode(image, "png"));
        assertThat(Arrays.copyOfRange(tensor, 0, 6)).containsExactly(1, 0, 0, 0, 1, 0);
    }

    @Test
    void shouldDecodeJpeg() throws IOException {
        float[] tensor = exact(GREY_4).pixels(encode(grey(4, 4, (x, y) -> 200), "jpeg"));
        assertThat(tensor[5]).isCloseTo(200f / 255, within(0.02f));
    }

    @Test
    void shouldDeadLetterBytesThatAreNotAnImage() {
        assertThatThrownBy(() -> exact(GREY_4).tensor("hello, not an image".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.FORMAT))
                .hasMessageContaining("not an image").hasMessageContaining("neither PNG nor JPEG");
    }

    @Test
    void shouldDeadLetterATruncatedPng() throws IOException {
        byte[] png = encode(grey(4, 4, (x, y) -> x * 60), "png");
        assertThatThrownBy(() -> exact(GREY_4).tensor(Arrays.copyOf(png, png.length - 20)))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.TRUNCATED))
                .hasMessageContaining("truncated PNG");
    }

    @Test
    void shouldDeadLetterATruncatedJpeg() throws IOException {
        byte[] jpeg = encode(grey(4, 4, (x, y) -> x * 60), "jpeg");
        assertThatThrownBy(() -> exact(GREY_4).tensor(Arrays.copyOf(jpeg, jpeg.length / 2)))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.TRUNCATED))
                .hasMessageContaining("truncated JPEG");
    }

    @Test
    void shouldDeadLetterACorruptPngThatEndsProperly() throws IOException {
        byte[] png = encode(grey(4, 4, (x, y) -> x * 60), "png");
        byte[] corrupt = png.clone();
        for (int i = 40; i < corrupt.length - 12; i++) {
            corrupt[i] ^= 0x5A;
        }
        assertThatThrownBy(() -> exact(GREY_4).tensor(corrupt))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isIn(InvalidImage.FORMAT,
                        InvalidImage.TRUNCATED));
    }

    @Test
    void shouldDeadLetterTheWrongSizeWhenResizingIsOff() throws IOException {
        assertThatThrownBy(() -> exact(GREY_4).tensor(encode(grey(5, 4, (x, y) -> 0), "png")))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.SIZE))
                .hasMessage("wrong size: PNG is 5 x 4 but backbone test-cnn takes 4 x 4 (backbone.image.resize=exact)");
    }

    @Test
    void shouldDeadLetterTooManyBytes() throws IOException {
        byte[] png = encode(grey(4, 4, (x, y) -> 0), "png");
        ImagePreprocessor small = new ImagePreprocessor(GREY_4, ImageResize.EXACT, false, png.length - 1, 10_000, "t");
        assertThatThrownBy(() -> small.tensor(png))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.TOO_LARGE))
                .hasMessageContaining("over backbone.image.max.bytes=" + (png.length - 1));
    }

    @Test
    void shouldDeadLetterTooManyPixelsFromTheHeader() throws IOException {
        ImagePreprocessor small = new ImagePreprocessor(GREY_4, ImageResize.STRETCH, false, 1_000_000, 100, "t");
        assertThatThrownBy(() -> small.tensor(encode(grey(20, 20, (x, y) -> 0), "png")))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.TOO_LARGE))
                .hasMessage("image is 20 x 20 = 400 pixels, over backbone.image.max.pixels=100");
    }

    @Test
    void shouldDeadLetterRgbForAGreyBackboneUnlessConversionIsOn() throws IOException {
        BufferedImage rgb = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, 0xFFFFFF);
        byte[] png = encode(rgb, "png");
        assertThatThrownBy(() -> exact(GREY_4).tensor(png))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.CHANNELS))
                .hasMessage("image has 3 channel(s) (3 (RGB)) but backbone test-cnn takes 1 (grey); "
                        + "set backbone.image.convert.channels=true to convert");
        ImagePreprocessor converting = new ImagePreprocessor(GREY_4, ImageResize.EXACT, true, 10_000, 10_000, "t");
        assertThat(converting.pixels(png)[0]).isCloseTo(1f, within(1e-5f));
    }

    @Test
    void shouldDeadLetterAnAlphaChannelUnlessConversionIsOn() throws IOException {
        BufferedImage argb = new BufferedImage(2, 2, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x80FF0000);
        byte[] png = encode(argb, "png");
        assertThatThrownBy(() -> exact(RGB_2_NHWC).tensor(png))
                .isInstanceOfSatisfying(InvalidImage.class, e -> assertThat(e.kind()).isEqualTo(InvalidImage.CHANNELS))
                .hasMessageContaining("4 channel(s) (3 (RGB) + alpha)");
        ImagePreprocessor converting = new ImagePreprocessor(RGB_2_NHWC, ImageResize.EXACT, true, 10_000, 10_000, "t");
        assertThat(converting.pixels(png)[0]).isCloseTo(1f, within(1e-5f));
    }

    @Test
    void shouldReplicateGreyIntoRgbWhenConversionIsOn() throws IOException {
        ImagePreprocessor converting = new ImagePreprocessor(RGB_2_NHWC, ImageResize.EXACT, true, 10_000, 10_000, "t");
        float[] pixels = converting.pixels(encode(grey(2, 2, (x, y) -> 51), "png"));
        assertThat(pixels).containsOnly(0.2f);
    }

    @Test
    void shouldStretchAndCropToTheInputSize() throws IOException {
        // 8 x 4, left half black, right half white.
        byte[] png = encode(grey(8, 4, (x, y) -> x < 4 ? 0 : 255), "png");
        ImagePreprocessor stretch = new ImagePreprocessor(GREY_4, ImageResize.STRETCH, false, 10_000, 10_000, "t");
        float[] stretched = stretch.pixels(png);
        assertThat(stretched[0]).isEqualTo(0f);
        assertThat(stretched[3]).isEqualTo(1f);
        // Crop: the shorter side (4) fits already; the centre 4 columns are x = 2..5.
        ImagePreprocessor crop = new ImagePreprocessor(GREY_4, ImageResize.CROP, false, 10_000, 10_000, "t");
        assertThat(Arrays.copyOfRange(crop.pixels(png), 0, 4)).containsExactly(0f, 0f, 1f, 1f);
    }

    @Test
    void shouldReadSixteenBitGreyAtFullRange() throws IOException {
        BufferedImage deep = new BufferedImage(4, 4, BufferedImage.TYPE_USHORT_GRAY);
        deep.getRaster().setSample(1, 0, 0, 65535);
        float[] pixels = exact(GREY_4).pixels(encode(deep, "png"));
        assertThat(pixels[0]).isEqualTo(0f);
        assertThat(pixels[1]).isEqualTo(1f);
    }

    interface Shade {
        int at(int x, int y);
    }

    static BufferedImage grey(int width, int height, Shade shade) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.getRaster().setSample(x, y, 0, shade.at(x, y));
            }
        }
        return image;
    }

    static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IOException("no writer for " + format);
        }
        return out.toByteArray();
    }
}
