package io.headwater.backbone;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.headwater.core.ConfigException;
import io.headwater.core.FatalException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A frozen pretrained vision model: encoded PNG or JPEG images in, one vector per image out.
 * Composes {@link ImagePreprocessor} (decode, check, resize, normalise), an ONNX Runtime session
 * and {@link ImageFeatures} (pooling, L2 normalisation), the way {@link Backbone} does for text.
 *
 * <p>Any ONNX model with one float image input works: {@link #load} reads the input's name, layout
 * and size from the graph, takes mean, std, output and pooling from the spec or the graph's
 * {@code headwater.image.*} metadata, and stops start-up with a {@link ConfigException} that names
 * the file and the mismatch when the graph does not fit the spec.
 *
 * <pre>{@code
 * try (ImageBackbone backbone = ImageBackbone.load(ImageBackboneSpec.defaults())) {   // fashion-cnn
 *     float[] tensor = backbone.preprocessor().tensor(pngBytes);   // throws InvalidImage
 *     float[][] vectors = backbone.embed(List.of(tensor));          // [1][128]
 * }
 * }</pre>
 *
 * <p>Thread-safe: {@link #embed} may be called from several threads; {@link #close()} must not race
 * with it.
 */
public final class ImageBackbone implements Embedder {

    private static final Logger log = LoggerFactory.getLogger(ImageBackbone.class);
    static final String META_MEAN = "headwater.image.mean";
    static final String META_STD = "headwater.image.std";
    static final String META_OUTPUT = "headwater.image.output";
    static final String META_POOLING = "headwater.image.pooling";

    private final OnnxFile file;
    private final ImageBackboneSpec spec;
    private final Session session;
    private final ImagePreprocessor preprocessor;
    private final AtomicLong calls = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** An open, checked session and what was read from it. */
    private record Session(OrtEnvironment environment, OrtSession ort, String provider, ImageInput input,
            int fixedBatch, String output, ImagePooling pooling, int featureAxis, int dimension) {
    }

    private ImageBackbone(OnnxFile file, ImageBackboneSpec spec, Session session) {
        this.file = file;
        this.spec = spec;
        this.session = session;
        this.preprocessor = new ImagePreprocessor(session.input(), spec.resize(), spec.convertChannels(),
                spec.maxBytes(), spec.maxPixels(), file.id());
    }

    /**
     * Loads the model the spec asks for and runs it once on a blank image.
     *
     * @throws ConfigException if no bundled image model has that name, the file is missing, or the
     *     graph does not fit the spec (the message names the file and the mismatch)
     * @throws FatalException if ONNX Runtime cannot load or run the model
     */
    public static ImageBackbone load(ImageBackboneSpec spec) {
        Objects.requireNonNull(spec, "spec cannot be null");
        long start = System.nanoTime();
        OnnxFile file = spec.modelPath().isPresent()
                ? OnnxFile.file(spec.modelId().orElseGet(() -> UserModel.defaultId(spec.modelPath().get())),
                        spec.modelPath().get(), "backbone.image.model.path",
                        "export a float32 or float16 model for the GPU, or set backbone.provider=cpu")
                : bundled(spec.name());
        Session session = Sessions.open(file, spec.provider(), spec.deviceId(), spec.intraOpThreads(),
                (environment, ort, provider) -> check(file, spec, environment, ort, provider));
        ImageBackbone backbone = new ImageBackbone(file, spec, session);
        log.info("Loaded image backbone {} (sha256 {}) from {}: input '{}' {}, mean {}, std {}, output '{}' with {} "
                        + "pooling, dimension {}, on {}, batches of {}, in {} ms",
                file.id(), file.sha256(), file.source(), session.input().name(),
                Arrays.toString(session.input().shape(-1)), Arrays.toString(session.input().mean()),
                Arrays.toString(session.input().std()), session.output(), session.pooling().configValue(),
                session.dimension(), session.provider(), backbone.batchSize(), (System.nanoTime() - start) / 1_000_000);
        return backbone;
    }

    private static OnnxFile bundled(String name) {
        BundledImageModel model = BundledImageModel.byName(name).orElseThrow(() -> new ConfigException(
                "backbone.image.name must be one of [" + BundledImageModel.knownNames() + "], found '" + name
                        + "' (or set backbone.image.model.path to load an ONNX file)"));
        return OnnxFile.resource(model.id(), model.modelResource(), "or set backbone.provider=cpu");
    }

    /** Reads and checks the graph's signature against the spec, then probes it. */
    private static Session check(OnnxFile file, ImageBackboneSpec spec, OrtEnvironment environment, OrtSession ort,
            String provider) throws OrtException {
        String model = "model " + file.source();
        Map<String, NodeInfo> inputs = ort.getInputInfo();
        Map<String, NodeInfo> outputs = ort.getOutputInfo();
        Map<String, String> metadata = ort.getMetadata().getCustomMetadata();

        String inputName;
        if (spec.inputName().isPresent()) {
            inputName = spec.inputName().get();
            if (!inputs.containsKey(inputName)) {
                throw new ConfigException(model + " has no input '" + inputName + "' (inputs: " + inputs.keySet()
                        + "); set backbone.image.input.name to one of them");
            }
        } else if (inputs.size() == 1) {
            inputName = inputs.keySet().iterator().next();
        } else {
            throw new ConfigException(model + " has " + inputs.size() + " inputs " + inputs.keySet()
                    + "; an image backbone feeds one: set backbone.image.input.name");
        }
        if (inputs.size() > 1) {
            throw new ConfigException(model + " has inputs " + inputs.keySet() + " but an image backbone feeds only '"
                    + inputName + "'");
        }
        if (!(inputs.get(inputName).getInfo() instanceof TensorInfo in) || in.type != OnnxJavaType.FLOAT) {
            throw new ConfigException(model + " input '" + inputName + "' is " + inputs.get(inputName).getInfo()
                    + "; an image backbone feeds a float tensor [batch, channels, height, width] or "
                    + "[batch, height, width, channels]");
        }
        long[] shape = in.getShape();
        if (shape.length != 4) {
            throw new ConfigException(model + " input '" + inputName + "' has shape " + Arrays.toString(shape)
                    + "; an image backbone feeds [batch, channels, height, width] or [batch, height, width, channels]");
        }
        boolean channelsFirst = layout(model, inputName, shape, spec);
        int channelAxis = channelsFirst ? 1 : 3;
        int hAxis = channelsFirst ? 2 : 1;
        long channels = shape[channelAxis];
        if (channels != 1 && channels != 3) {
            throw new ConfigException(model + " input '" + inputName + "' has shape " + Arrays.toString(shape) + " ("
                    + (channelsFirst ? "NCHW" : "NHWC") + "): " + channels + " channels, but an image backbone "
                    + "feeds 1 (grey) or 3 (RGB)");
        }
        int height = spatial(model, inputName, shape, hAxis, spec.height(), spec, "height");
        int width = spatial(model, inputName, shape, hAxis + 1, spec.width(), spec, "width");
        int fixedBatch = shape[0] > 0 ? (int) shape[0] : 0;
        int c = (int) channels;
        ImageInput input = new ImageInput(inputName, c, height, width, channelsFirst,
                perChannel(spec.mean(), metadata.get(META_MEAN), 0.0, c, "backbone.image.mean", model),
                perChannel(spec.std(), metadata.get(META_STD), 1.0, c, "backbone.image.std", model));

        String output = spec.outputName().orElseGet(() -> Optional.ofNullable(metadata.get(META_OUTPUT))
                .filter(outputs::containsKey).orElse(outputs.keySet().iterator().next()));
        if (!outputs.containsKey(output)) {
            throw new ConfigException(model + " has no output '" + output + "' (outputs: " + outputs.keySet()
                    + "); set backbone.image.output.name to one of them");
        }
        if (!(outputs.get(output).getInfo() instanceof TensorInfo out) || out.type != OnnxJavaType.FLOAT) {
            throw new ConfigException(model + " output '" + output + "' is " + outputs.get(output).getInfo()
                    + "; expected a float tensor");
        }
        long[] outShape = out.getShape();
        if (outShape.length < 2 || outShape.length > 4) {
            throw new ConfigException(model + " output '" + output + "' has shape " + Arrays.toString(outShape)
                    + "; expected [batch, dimension], [batch, tokens, dimension] or a feature map");
        }
        ImagePooling pooling = spec.pooling().orElseGet(() -> Optional.ofNullable(metadata.get(META_POOLING))
                .map(v -> ImagePooling.fromConfig(META_POOLING + " in " + model, v))
                .orElse(outShape.length == 2 ? ImagePooling.NONE : ImagePooling.MEAN));
        if (outShape.length == 2 && (pooling == ImagePooling.MEAN || pooling == ImagePooling.MAX)) {
            throw new ConfigException(model + " output '" + output + "' has shape " + Arrays.toString(outShape)
                    + ", one vector per image already, so backbone.image.pooling=" + pooling.configValue()
                    + " has nothing to pool over; set it to none");
        }
        if (outShape.length > 2 && pooling == ImagePooling.NONE) {
            throw new ConfigException(model + " output '" + output + "' has shape " + Arrays.toString(outShape)
                    + "; backbone.image.pooling=none needs [batch, dimension]: use mean, max or flatten");
        }
        // Feature axis: channels of a feature map (where the input has them), the last of a token sequence.
        int featureAxis = outShape.length == 4 ? (channelsFirst ? 1 : 3) : outShape.length - 1;

        Session unprobed = new Session(environment, ort, provider, input, fixedBatch, output, pooling, featureAxis, -1);
        float[][] probe = run(unprobed, file.id(), List.of(new float[input.size()]), spec.normalize());
        int dimension = probe[0].length;
        OptionalInt expected = spec.dimension();
        if (dimension == 0 || (expected.isPresent() && expected.getAsInt() != dimension)) {
            throw new ConfigException(model + " output '" + output + "' with " + pooling.configValue()
                    + " pooling gives vectors of width " + dimension
                    + (expected.isPresent() ? " but backbone.image.dimension is " + expected.getAsInt() : ""));
        }
        return new Session(environment, ort, provider, input, fixedBatch, output, pooling, featureAxis, dimension);
    }

    private static boolean layout(String model, String inputName, long[] shape, ImageBackboneSpec spec) {
        if (spec.channelsFirst().isPresent()) {
            return spec.channelsFirst().get();
        }
        boolean first = shape[1] == 1 || shape[1] == 3;
        boolean last = shape[3] == 1 || shape[3] == 3;
        if (first == last) {
            throw new ConfigException(model + " input '" + inputName + "' has shape " + Arrays.toString(shape)
                    + ", which does not say where its channels are; set backbone.image.layout to nchw or nhwc");
        }
        return first;
    }

    private static int spatial(String model, String inputName, long[] shape, int axis, OptionalInt configured,
            ImageBackboneSpec spec, String what) {
        long fixed = shape[axis];
        if (configured.isPresent()) {
            if (fixed > 0 && fixed != configured.getAsInt()) {
                throw new ConfigException(model + " input '" + inputName + "' has shape " + Arrays.toString(shape)
                        + ": its " + what + " is " + fixed + " but backbone.image.size is "
                        + spec.height().getAsInt() + "x" + spec.width().getAsInt());
            }
            return configured.getAsInt();
        }
        if (fixed <= 0) {
            throw new ConfigException(model + " input '" + inputName + "' has shape " + Arrays.toString(shape)
                    + " with a dynamic " + what + "; set backbone.image.size (e.g. 224x224)");
        }
        return (int) fixed;
    }

    private static double[] perChannel(Optional<double[]> configured, String metadata, double fallback, int channels,
            String key, String model) {
        double[] values;
        if (configured.isPresent()) {
            values = configured.get();
        } else if (metadata != null) {
            try {
                values = Arrays.stream(metadata.split(",")).mapToDouble(v -> Double.parseDouble(v.trim())).toArray();
            } catch (NumberFormatException e) {
                throw new ConfigException(model + " metadata " + key.replace("backbone.", "headwater.") + "='"
                        + metadata + "' is not a list of numbers; set " + key, e);
            }
        } else {
            values = new double[] {fallback};
        }
        if (values.length == 1 && channels > 1) {
            double v = values[0];
            values = new double[channels];
            Arrays.fill(values, v);
        }
        if (values.length != channels) {
            throw new ConfigException(key + " needs 1 or " + channels + " values for " + model + ", found "
                    + Arrays.toString(values));
        }
        return values;
    }

    @Override
    public String id() {
        return file.id();
    }

    @Override
    public String sha256() {
        return file.sha256();
    }

    @Override
    public int dimension() {
        return session.dimension();
    }

    @Override
    public String provider() {
        return session.provider();
    }

    @Override
    public long calls() {
        return calls.get();
    }

    /** The spec this was loaded with. */
    public ImageBackboneSpec spec() {
        return spec;
    }

    /** Where the graph came from: a path or {@code classpath:/fashion-cnn.onnx}. */
    public String source() {
        return file.source();
    }

    /** Decodes and checks images into this model's input tensors. */
    public ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    /** The input tensor as read from the graph and the spec. */
    public ImageInput input() {
        return session.input();
    }

    /** The output embedded with and how it is pooled. */
    public String output() {
        return session.output();
    }

    public ImagePooling pooling() {
        return session.pooling();
    }

    /** Images per session run: the spec's, or 1 for a graph whose batch axis is fixed at 1. */
    public int batchSize() {
        return session.fixedBatch() > 0 ? session.fixedBatch() : spec.batchSize();
    }

    /**
     * One vector per input tensor (from {@link ImagePreprocessor#tensor}), in input order, run in
     * batches of {@link #batchSize()}. An empty list runs nothing.
     *
     * @throws IllegalArgumentException if a tensor has the wrong length
     * @throws FatalException if ONNX Runtime fails
     */
    public float[][] embed(List<float[]> tensors) {
        Objects.requireNonNull(tensors, "tensors cannot be null");
        if (closed.get()) {
            throw new IllegalStateException("Image backbone " + id() + " is closed");
        }
        float[][] out = new float[tensors.size()][];
        int batch = batchSize();
        for (int start = 0; start < tensors.size(); start += batch) {
            List<float[]> chunk = tensors.subList(start, Math.min(start + batch, tensors.size()));
            float[][] vectors;
            try {
                vectors = run(session, id(), chunk, spec.normalize());
            } catch (OrtException e) {
                throw new FatalException("Failed to run image backbone " + id() + " on " + provider()
                        + " on batch of " + chunk.size() + ": " + Sessions.ortMessage(e), e);
            }
            calls.incrementAndGet();
            System.arraycopy(vectors, 0, out, start, vectors.length);
        }
        return out;
    }

    /**
     * Decodes and embeds encoded images: {@link ImagePreprocessor#tensor} then {@link #embed}.
     *
     * @throws InvalidImage for the first image that cannot be used
     */
    public float[][] embedImages(List<byte[]> images) {
        List<float[]> tensors = new ArrayList<>(images.size());
        for (byte[] image : images) {
            tensors.add(preprocessor.tensor(image));
        }
        return embed(tensors);
    }

    private static float[][] run(Session s, String id, List<float[]> tensors, boolean normalize) throws OrtException {
        int n = tensors.size();
        int size = s.input().size();
        // A graph with a fixed batch of 1 gets one image per run; embed() keeps chunks that small.
        FloatBuffer flat = FloatBuffer.allocate(n * size);
        for (float[] t : tensors) {
            if (t.length != size) {
                throw new IllegalArgumentException("image tensor has " + t.length + " values but input '"
                        + s.input().name() + "' of backbone " + id + " takes " + size);
            }
            flat.put(t);
        }
        flat.flip();
        try (OnnxTensor tensor = OnnxTensor.createTensor(s.environment(), flat, s.input().shape(n));
                OrtSession.Result result = s.ort().run(Map.of(s.input().name(), tensor), Set.of(s.output()))) {
            Optional<OnnxValue> value = result.get(s.output());
            if (value.isEmpty() || !(value.get() instanceof OnnxTensor out)) {
                throw new FatalException("Image backbone " + id + " did not return tensor " + s.output());
            }
            long[] shape = out.getInfo().getShape();
            FloatBuffer values = out.getFloatBuffer();
            float[] array = new float[values.remaining()];
            values.get(array);
            return ImageFeatures.pool(s.pooling(), array, shape, s.featureAxis(), normalize);
        }
    }

    /** Closes the session; idempotent, never throws. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Sessions.closeQuietly(id(), session.ort());
            log.debug("Closed image backbone {} after {} runs", id(), calls.get());
        }
    }
}
