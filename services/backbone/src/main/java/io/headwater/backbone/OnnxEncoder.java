package io.headwater.backbone;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.headwater.core.FatalException;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model execution for a backbone: one ONNX Runtime session that turns a {@link TokenBatch} into
 * per-token hidden states {@code [batch][seq][dim]}. Knows nothing of text or pooling.
 *
 * <p>Thread-safe ({@link OrtSession#run} is); {@link #close()} must not race with {@link #run}.
 */
final class OnnxEncoder implements AutoCloseable {

    static final String INPUT_IDS = "input_ids";
    static final String ATTENTION_MASK = "attention_mask";
    static final String TOKEN_TYPE_IDS = "token_type_ids";

    private static final Logger log = LoggerFactory.getLogger(OnnxEncoder.class);

    private final String id;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final String outputName;
    private final boolean takesTokenTypes;

    private OnnxEncoder(String id, OrtEnvironment environment, OrtSession session, String outputName,
            boolean takesTokenTypes) {
        this.id = id;
        this.environment = environment;
        this.session = session;
        this.outputName = outputName;
        this.takesTokenTypes = takesTokenTypes;
    }

    /**
     * Creates a CPU session for the model bytes.
     *
     * @param intraOpThreads threads for one operator; 0 leaves ONNX Runtime's default
     */
    static OnnxEncoder create(String id, byte[] model, String outputName, int intraOpThreads) {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtSession session;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            // One sequential graph: inter-op threads would only compete with the intra-op pool.
            options.setInterOpNumThreads(1);
            session = environment.createSession(model, options);
        } catch (OrtException e) {
            throw new FatalException("Failed to create ONNX Runtime session for backbone " + id, e);
        }
        try {
            boolean takesTokenTypes = checkSignature(id, session, outputName);
            return new OnnxEncoder(id, environment, session, outputName, takesTokenTypes);
        } catch (OrtException e) {
            closeQuietly(id, session);
            throw new FatalException("Failed to read inputs and outputs of backbone " + id, e);
        } catch (FatalException e) {
            closeQuietly(id, session);
            throw e;
        }
    }

    /** Checks the graph's inputs and outputs; returns whether it takes token type ids. */
    private static boolean checkSignature(String id, OrtSession session, String outputName)
            throws OrtException {
        Set<String> inputs = session.getInputNames();
        Set<String> outputs = session.getOutputNames();
        if (!inputs.contains(INPUT_IDS) || !inputs.contains(ATTENTION_MASK)
                || !Set.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS).containsAll(inputs)) {
            throw new FatalException("Backbone " + id + " has inputs " + inputs + "; expected "
                    + INPUT_IDS + ", " + ATTENTION_MASK + " and optionally " + TOKEN_TYPE_IDS);
        }
        if (!outputs.contains(outputName)) {
            throw new FatalException("Backbone " + id + " has outputs " + outputs + "; expected "
                    + outputName);
        }
        log.debug("Backbone {} session: inputs {}, outputs {}", id, inputs, outputs);
        return inputs.contains(TOKEN_TYPE_IDS);
    }

    /** Runs the model on one batch and returns its hidden states {@code [size][length][dim]}. */
    float[][][] run(TokenBatch batch) {
        long[] shape = {batch.size(), batch.length()};
        try (OnnxTensor ids = tensor(batch.inputIds(), shape);
                OnnxTensor mask = tensor(batch.attentionMask(), shape);
                OnnxTensor types = tensor(batch.tokenTypeIds(), shape)) {
            Map<String, OnnxTensor> inputs = new HashMap<>(4);
            inputs.put(INPUT_IDS, ids);
            inputs.put(ATTENTION_MASK, mask);
            if (takesTokenTypes) {
                inputs.put(TOKEN_TYPE_IDS, types);
            }
            try (OrtSession.Result result = session.run(inputs, Set.of(outputName))) {
                Optional<OnnxValue> output = result.get(outputName);
                if (output.isEmpty() || !(output.get().getValue() instanceof float[][][] hidden)) {
                    throw new FatalException("Backbone " + id + " did not return a float [batch][seq][dim] "
                            + outputName);
                }
                return hidden;
            }
        } catch (OrtException e) {
            throw new FatalException("Failed to run backbone " + id + " on batch of " + batch.size(), e);
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
        closeQuietly(id, session);
    }

    private static void closeQuietly(String id, OrtSession toClose) {
        try {
            toClose.close();
        } catch (OrtException e) {
            log.warn("Failed to close ONNX Runtime session of backbone {}", id, e);
        }
    }
}
