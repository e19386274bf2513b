package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What image backbone to load and how to feed it: a bundled one by {@link #name()} (see
 * {@link BundledImageModel}) or, when {@link #modelPath()} is present, any ONNX vision model (a
 * ResNet, VGG or MobileNet exported by the user) whose input is a float image tensor
 * {@code [batch, channels, height, width]} or {@code [batch, height, width, channels]}.
 *
 * <p>What is not set here comes from the model: its input name (when it has one input), its input
 * size (when fixed), its layout (from which axis has 1 or 3 channels), and mean, std, output and
 * pooling from its {@code headwater.image.*} metadata when present; otherwise the first output,
 * {@link ImagePooling#MEAN} over a feature map, and pixels in [0, 1] (mean 0, std 1). Validated on
 * construction ({@link ConfigException} naming the key and value) and against the model by
 * {@link ImageBackbone#load} (naming the file and the mismatch).
 *
 * <pre>{@code
 * ImageBackboneSpec resnet = ImageBackboneSpec.builder()
 *         .modelPath(Path.of("/models/resnet18.onnx"))
 *         .outputName("pooled")                    // a [batch, 512] output: no pooling needed
 *         .pooling(ImagePooling.NONE)
 *         .mean(0.485, 0.456, 0.406).std(0.229, 0.224, 0.225)
 *         .resize(ImageResize.CROP)
 *         .build();
 * }</pre>
 */
public final class ImageBackboneSpec {

    /** Default most encoded bytes: a base64 image this size still fits a 1 MB Kafka record. */
    public static final int DEFAULT_MAX_BYTES = 700_000;
    /** Default most pixels: 4096 x 4096. */
    public static final long DEFAULT_MAX_PIXELS = 4096L * 4096L;

    private final String name;
    private final Optional<Path> modelPath;
    private final Optional<String> modelId;
    private final Optional<String> inputName;
    private final Optional<String> outputName;
    private final Optional<ImagePooling> pooling;
    private final Optional<Boolean> channelsFirst;
    private final OptionalInt height;
    private final OptionalInt width;
    private final Optional<double[]> mean;
    private final Optional<double[]> std;
    private final ImageResize resize;
    private final boolean convertChannels;
    private final int maxBytes;
    private final long maxPixels;
    private final boolean normalize;
    private final int batchSize;
    private final int intraOpThreads;
    private final ExecutionProvider provider;
    private final int deviceId;
    private final OptionalInt dimension;

    private ImageBackboneSpec(Builder b) {
        if (b.name.isBlank()) {
            throw new ConfigException("backbone.image.name must not be blank, found '" + b.name + "'");
        }
        if (b.modelId.isPresent() && b.modelId.get().isBlank()) {
            throw new ConfigException("backbone.image.model.id must not be blank, found '" + b.modelId.get() + "'");
        }
        if (b.height.isPresent() && (b.height.getAsInt() < 1 || b.width.getAsInt() < 1)) {
            throw new ConfigException("backbone.image.size must be at least 1x1, found " + b.height.getAsInt() + "x"
                    + b.width.getAsInt());
        }
        if (b.maxBytes < 1) {
            throw new ConfigException("backbone.image.max.bytes must be >= 1, found " + b.maxBytes);
        }
        if (b.maxPixels < 1) {
            throw new ConfigException("backbone.image.max.pixels must be >= 1, found " + b.maxPixels);
        }
        if (b.batchSize < 1) {
            throw new ConfigException("backbone.image.batch.size must be >= 1, found " + b.batchSize);
        }
        if (b.intraOpThreads < 0) {
            throw new ConfigException("backbone.image.threads must be >= 0, found " + b.intraOpThreads);
        }
        if (b.deviceId < 0) {
            throw new ConfigException("backbone.device.id must be >= 0, found " + b.deviceId);
        }
        if (b.dimension.isPresent() && b.dimension.getAsInt() < 1) {
            throw new ConfigException("backbone.image.dimension must be >= 1, found " + b.dimension.getAsInt());
        }
        this.name = b.name;
        this.modelPath = b.modelPath;
        this.modelId = b.modelId;
        this.inputName = b.inputName;
        this.outputName = b.outputName;
        this.pooling = b.pooling;
        this.channelsFirst = b.channelsFirst;
        this.height = b.height;
        this.width = b.width;
        this.mean = b.mean.map(double[]::clone);
        this.std = b.std.map(double[]::clone);
        this.resize = b.resize;
        this.convertChannels = b.convertChannels;
        this.maxBytes = b.maxBytes;
        this.maxPixels = b.maxPixels;
        this.normalize = b.normalize;
        this.batchSize = b.batchSize;
        this.intraOpThreads = b.intraOpThreads;
        this.provider = b.provider;
        this.deviceId = b.deviceId;
        this.dimension = b.dimension;
    }

    /** The bundled fashion-cnn with every default. */
    public static ImageBackboneSpec defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Bundled image backbone ({@code backbone.image.name}); ignored when {@link #modelPath()} is present. */
    public String name() {
        return name;
    }

    /** The ONNX file to load instead of a bundled model ({@code backbone.image.model.path}). */
    public Optional<Path> modelPath() {
        return modelPath;
    }

    /** The id published with heads built on a model file ({@code backbone.image.model.id}; default: its file name). */
    public Optional<String> modelId() {
        return modelId;
    }

    /** The input to feed ({@code backbone.image.input.name}); empty: the model's only input. */
    public Optional<String> inputName() {
        return inputName;
    }

    /** The output to embed with ({@code backbone.image.output.name}); empty: metadata, else the first. */
    public Optional<String> outputName() {
        return outputName;
    }

    /** How the output becomes one vector ({@code backbone.image.pooling}); empty: metadata, else by rank. */
    public Optional<ImagePooling> pooling() {
        return pooling;
    }

    /** True for NCHW, false for NHWC ({@code backbone.image.layout}); empty: read from the input's shape. */
    public Optional<Boolean> channelsFirst() {
        return channelsFirst;
    }

    /** Input height ({@code backbone.image.size}), needed when the model's is dynamic. */
    public OptionalInt height() {
        return height;
    }

    /** Input width ({@code backbone.image.size}), needed when the model's is dynamic. */
    public OptionalInt width() {
        return width;
    }

    /** Per-channel mean of [0, 1] pixels ({@code backbone.image.mean}); empty: metadata, else 0. */
    public Optional<double[]> mean() {
        return mean.map(double[]::clone);
    }

    /** Per-channel std ({@code backbone.image.std}); empty: metadata, else 1. */
    public Optional<double[]> std() {
        return std.map(double[]::clone);
    }

    /** What to do with an image of another size ({@code backbone.image.resize}). */
    public ImageResize resize() {
        return resize;
    }

    /** Whether grey/RGB are converted and alpha dropped ({@code backbone.image.convert.channels}). */
    public boolean convertChannels() {
        return convertChannels;
    }

    /** Most encoded bytes accepted ({@code backbone.image.max.bytes}). */
    public int maxBytes() {
        return maxBytes;
    }

    /** Most pixels accepted ({@code backbone.image.max.pixels}). */
    public long maxPixels() {
        return maxPixels;
    }

    /** Whether vectors are L2-normalised, as text embeddings are ({@code backbone.image.normalize}). */
    public boolean normalize() {
        return normalize;
    }

    /** Images per session run ({@code backbone.image.batch.size}). */
    public int batchSize() {
        return batchSize;
    }

    /** ONNX Runtime intra-op threads ({@code backbone.image.threads}; 0: its default). */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    /** Where the session runs ({@code backbone.provider}). */
    public ExecutionProvider provider() {
        return provider;
    }

    /** The CUDA device ({@code backbone.device.id}). */
    public int deviceId() {
        return deviceId;
    }

    /** The width vectors must have ({@code backbone.image.dimension}), if checked. */
    public OptionalInt dimension() {
        return dimension;
    }

    @Override
    public String toString() {
        return "ImageBackboneSpec[" + modelPath.map(Path::toString).orElse(name) + ", input " + inputName.orElse("auto")
                + ", output " + outputName.orElse("auto") + ", pooling " + pooling.map(ImagePooling::configValue)
                .orElse("auto") + ", size " + (height.isPresent() ? height.getAsInt() + "x" + width.getAsInt() : "auto")
                + ", mean " + mean.map(Arrays::toString).orElse("auto") + ", std " + std.map(Arrays::toString)
                .orElse("auto") + ", resize " + resize.configValue() + ", batch " + batchSize + "]";
    }

    /** Builds an {@link ImageBackboneSpec}; every part is optional. Values are validated by {@link #build()}. */
    public static final class Builder {
        private String name = BundledImageModel.FASHION_CNN.id();
        private Optional<Path> modelPath = Optional.empty();
        private Optional<String> modelId = Optional.empty();
        private Optional<String> inputName = Optional.empty();
        private Optional<String> outputName = Optional.empty();
        private Optional<ImagePooling> pooling = Optional.empty();
        private Optional<Boolean> channelsFirst = Optional.empty();
        private OptionalInt height = OptionalInt.empty();
        private OptionalInt width = OptionalInt.empty();
        private Optional<double[]> mean = Optional.empty();
        private Optional<double[]> std = Optional.empty();
        private ImageResize resize = ImageResize.EXACT;
        private boolean convertChannels;
        private int maxBytes = DEFAULT_MAX_BYTES;
        private long maxPixels = DEFAULT_MAX_PIXELS;
        private boolean normalize = true;
        private int batchSize = 64;
        private int intraOpThreads;
        private ExecutionProvider provider = ExecutionProvider.AUTO;
        private int deviceId;
        private OptionalInt dimension = OptionalInt.empty();

        private Builder() {
        }

        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name cannot be null");
            return this;
        }

        public Builder modelPath(Path modelPath) {
            this.modelPath = Optional.of(Objects.requireNonNull(modelPath, "modelPath cannot be null"));
            return this;
        }

        public Builder modelId(String modelId) {
            this.modelId = Optional.of(Objects.requireNonNull(modelId, "modelId cannot be null"));
            return this;
        }

        public Builder inputName(String inputName) {
            this.inputName = Optional.of(Objects.requireNonNull(inputName, "inputName cannot be null"));
            return this;
        }

        public Builder outputName(String outputName) {
            this.outputName = Optional.of(Objects.requireNonNull(outputName, "outputName cannot be null"));
            return this;
        }

        public Builder pooling(ImagePooling pooling) {
            this.pooling = Optional.of(Objects.requireNonNull(pooling, "pooling cannot be null"));
            return this;
        }

        /** True for [batch, channels, height, width], false for [batch, height, width, channels]. */
        public Builder channelsFirst(boolean channelsFirst) {
            this.channelsFirst = Optional.of(channelsFirst);
            return this;
        }

        public Builder size(int height, int width) {
            this.height = OptionalInt.of(height);
            this.width = OptionalInt.of(width);
            return this;
        }

        public Builder mean(double... mean) {
            this.mean = Optional.of(mean.clone());
            return this;
        }

        public Builder std(double... std) {
            this.std = Optional.of(std.clone());
            return this;
        }

        public Builder resize(ImageResize resize) {
            this.resize = Objects.requireNonNull(resize, "resize cannot be null");
            return this;
        }

        public Builder convertChannels(boolean convertChannels) {
            this.convertChannels = convertChannels;
            return this;
        }

        public Builder maxBytes(int maxBytes) {
            this.maxBytes = maxBytes;
            return this;
        }

        public Builder maxPixels(long maxPixels) {
            this.maxPixels = maxPixels;
            return this;
        }

        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder intraOpThreads(int intraOpThreads) {
            this.intraOpThreads = intraOpThreads;
            return this;
        }

        public Builder provider(ExecutionProvider provider) {
            this.provider = Objects.requireNonNull(provider, "provider cannot be null");
            return this;
        }

        public Builder deviceId(int deviceId) {
            this.deviceId = deviceId;
            return this;
        }

        public Builder dimension(int dimension) {
            this.dimension = OptionalInt.of(dimension);
            return this;
        }

        public ImageBackboneSpec build() {
            return new ImageBackboneSpec(this);
        }
    }
}
