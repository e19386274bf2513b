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
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model execution for a backbone: one ONNX Runtime session, on the CPU or a CUDA device, that turns
 * a {@link TokenBatch} into per-token hidden states {@code [batch][seq][dim]}. Knows nothing of
 * text or pooling.
 *
 * <p>{@link #create} chooses the execution provider, checks the graph's inputs and output against
 * the expected names, types and width (a mismatch is a {@link ConfigException} naming the file),
 * and runs the model once on a probe batch, so a CUDA set-up that only fails at the first run (a
 * missing cuDNN, say) fails at start-up, where {@code auto} can still fall back to the CPU.
 *
 * <p>Thread-safe ({@link OrtSession#run} is); {@link #close()} must not race with {@link #run}.
 */
final class OnnxEncoder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OnnxEncoder.class);

    private final String id;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final TensorNames names;
    private final boolean takesTokenTypes;
    private final String provider;
    private final int dimension;

    private OnnxEncoder(String id, OrtEnvironment environment, OrtSession session, TensorNames names,
            boolean takesTokenTypes, String provider, int dimension) {
        this.id = id;
        this.environment = environment;
        this.session = session;
        this.names = names;
        this.takesTokenTypes = takesTokenTypes;
        this.provider = provider;
        this.dimension = dimension;
    }

    /**
     * Opens a session on the provider asked for, checks it and runs {@code probe} through it.
     *
     * @param intraOpThreads threads for one operator; 0 leaves ONNX Runtime's default
     * @throws ConfigException if the graph does not fit the expected names, types or width, or if
     *     {@link ExecutionProvider#CUDA} was asked for and cannot be had
     * @throws FatalException if ONNX Runtime cannot load or run the model on the CPU
     */
    static OnnxEncoder create(ModelSource model, ExecutionProvider provider, int deviceId, int intraOpThreads,
            TokenBatch probe) {
        return Sessions.open(model.graph(), provider, deviceId, intraOpThreads,
                (environment, session, where) -> checkAndProbe(model, environment, session, where, probe));
    }

    /** Checks the signature, runs the probe, checks its width; the session is the caller's to close. */
    private static OnnxEncoder checkAndProbe(ModelSource model, OrtEnvironment environment, OrtSession session,
            String provider, TokenBatch probe) throws OrtException {
        boolean takesTokenTypes = checkSignature(model, session);
        OnnxEncoder encoder = new OnnxEncoder(model.id(), environment, session, model.names(), takesTokenTypes,
                provider, -1);
        float[][][] hidden = encoder.runOrThrow(probe);
        int width = hidden.length == 0 || hidden[0].length == 0 ? 0 : hidden[0][0].length;
        OptionalInt expected = model.expectedDimension();
        if (width == 0 || (expected.isPresent() && expected.getAsInt() != width)) {
            throw new ConfigException("model " + model.source() + " output '" + model.names().output()
                    + "' gives vectors of width " + width
                    + (expected.isPresent() ? " but " + model.expectedDimensionSource() + " " + expected.getAsInt() : ""));
        }
        return new OnnxEncoder(model.id(), environment, session, model.names(), takesTokenTypes, provider, width);
    }

    /**
     * Checks the graph's inputs and output against the expected names and types; returns whether
     * it takes token type ids.
     */
    static boolean checkSignature(ModelSource model, OrtSession session) throws OrtException {
        TensorNames names = model.names();
        Map<String, NodeInfo> inputs = session.getInputInfo();
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        String file = "model " + model.source();
        requireInput(file, inputs, names.inputIds(), "backbone.input.ids.name");
        requireInput(file, inputs, names.attentionMask(), "backbone.attention.mask.name");
        Set<String> fed = Set.of(names.inputIds(), names.attentionMask(), names.tokenTypeIds());
        for (Map.Entry<String, NodeInfo> input : inputs.entrySet()) {
            if (!fed.contains(input.getKey())) {
                throw new ConfigException(file + " has input '" + input.getKey() + "' that the backbone does not feed"
                        + " (inputs: " + inputs.keySet() + "); it feeds '" + names.inputIds() + "', '"
                        + names.attentionMask() + "' and, if present, '" + names.tokenTypeIds() + "'");
            }
            if (!(input.getValue().getInfo() instanceof TensorInfo tensor) || tensor.type != OnnxJavaType.INT64) {
                throw new ConfigException(file + " input '" + input.getKey() + "' is "
                        + input.getValue().getInfo() + "; the backbone feeds int64 tensors [batch, sequence]");
            }
        }
        if (!outputs.containsKey(names.output())) {
            throw new ConfigException(file + " has no output '" + names.output() + "' (outputs: " + outputs.keySet()
                    + "); set backbone.output.name");
        }
        if (!(outputs.get(names.output()).getInfo() instanceof TensorInfo out) || out.type != OnnxJavaType.FLOAT) {
            throw new ConfigException(file + " output '" + names.output() + "' is "
                    + outputs.get(names.output()).getInfo() + "; expected a float tensor");
        }
        long[] shape = out.getShape();
        if (shape.length != 3) {
            throw new ConfigException(file + " output '" + names.output() + "' has shape " + Arrays.toString(shape)
                    + "; expected per-token hidden states [batch, sequence, dimension]");
        }
        OptionalInt expected = model.expectedDimension();
        if (shape[2] > 0 && expected.isPresent() && shape[2] != expected.getAsInt()) {
            throw new ConfigException(file + " output '" + names.output() + "' has shape " + Arrays.toString(shape)
                    + " but " + model.expectedDimensionSource() + " " + expected.getAsInt());
        }
        log.debug("Backbone {} session: inputs {}, outputs {}", model.id(), inputs.keySet(), outputs.keySet());
        return inputs.containsKey(names.tokenTypeIds());
    }

    private static void requireInput(String file, Map<String, NodeInfo> inputs, String name, String key) {
        if (!inputs.containsKey(name)) {
            throw new ConfigException(file + " has no input '" + name + "' (inputs: " + inputs.keySet()
                    + "); set " + key);
        }
    }

    /** Where the session runs: {@code "cpu"} or {@code "cuda:<device id>"}. */
    String provider() {
        return provider;
    }

    /** Width of the hidden states, as measured on the probe batch. */
    int dimension() {
        return dimension;
    }

    /** Runs the model on one batch and returns its hidden states {@code [size][length][dim]}. */
    float[][][] run(TokenBatch batch) {
        try {
            return runOrThrow(batch);
        } catch (OrtException e) {
            throw new FatalException("Failed to run backbone " + id + " on " + provider + " on batch of "
                    + batch.size() + ": " + ortMessage(e), e);
        }
    }

    private float[][][] runOrThrow(TokenBatch batch) throws OrtException {
        long[] shape = {batch.size(), batch.length()};
        try (OnnxTensor ids = tensor(batch.inputIds(), shape);
                OnnxTensor mask = tensor(batch.attentionMask(), shape);
                OnnxTensor types = tensor(batch.tokenTypeIds(), shape)) {
            Map<String, OnnxTensor> inputs = new HashMap<>(4);
            inputs.put(names.inputIds(), ids);
            inputs.put(names.attentionMask(), mask);
            if (takesTokenTypes) {
                inputs.put(names.tokenTypeIds(), types);
            }
            try (OrtSession.Result result = session.run(inputs, Set.of(names.output()))) {
                Optional<OnnxValue> output = result.get(names.output());
                if (output.isEmpty() || !(output.get().getValue() instanceof float[][][] hidden)) {
                    throw new FatalException("Backbone " + id + " did not return a float [batch][seq][dim] "
                            + names.output());
                }
                return hidden;
            }
        }
    }

    private OnnxTensor tensor(long[][] rows, long[] shape) throws OrtException {
        int length = (int) shape[1];
        LongBuffer flat = LongBuffer.allocate(rows.length * length);
        for (long[] row : rows) {
            flat.put(row);
        }
        flat.flip();
        return OnnxTensor.createTensor(environment, flat, shape);
    }

    /** Closes the session; logs and never throws. The shared environment stays open. */
    @Override
    public void close() {
        Sessions.closeQuietly(id, session);
    }

    /** ONNX Runtime's message without its "Error code - X - message: " wrapping. */
    static String ortMessage(OrtException e) {
        return Sessions.ortMessage(e);
    }
}
