package io.headwater.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The portable form of a trained head: a stack of dense layers ending in a softmax over the task's
 * labels. Any head type exports to it, and a consumer in any language applies it to an embedding
 * with a few lines of code. The binary layout ({@code headwater.dense.v1}, little-endian) is
 * documented in {@code schemas/head-artifact-v1.md}.
 *
 * <pre>{@code
 * HeadArtifact head = HeadArtifact.decode(bytes);
 * String label = head.labels().get(head.predict(embedding));
 * }</pre>
 *
 * @param labels the output classes, in output order
 * @param layers the layers, applied in order; the last one has {@link DenseLayer.Activation#SOFTMAX}
 */
public record HeadArtifact(List<String> labels, List<DenseLayer> layers) {

    public static final String FORMAT = "headwater.dense.v1";
    private static final int MAGIC = 0x4844_4E31; // "HDN1"
    private static final int FORMAT_VERSION = 1;

    public HeadArtifact {
        labels = List.copyOf(Objects.requireNonNull(labels, "labels cannot be null"));
        layers = List.copyOf(Objects.requireNonNull(layers, "layers cannot be null"));
        if (labels.isEmpty()) {
            throw new BadRecordException("a head needs at least one label");
        }
        if (layers.isEmpty()) {
            throw new BadRecordException("a head needs at least one layer");
        }
        for (int i = 1; i < layers.size(); i++) {
            if (layers.get(i).inputs() != layers.get(i - 1).outputs()) {
                throw new BadRecordException("layer " + i + " expects " + layers.get(i).inputs()
                        + " inputs but layer " + (i - 1) + " gives " + layers.get(i - 1).outputs());
            }
        }
        DenseLayer last = layers.get(layers.size() - 1);
        if (last.outputs() != labels.size()) {
            throw new BadRecordException("last layer has " + last.outputs() + " outputs for "
                    + labels.size() + " labels");
        }
        if (last.activation() != DenseLayer.Activation.SOFTMAX) {
            throw new BadRecordException("last layer must be softmax, found " + last.activation());
        }
        for (int i = 0; i < layers.size(); i++) {
            requireFinite(layers.get(i).weights(), "layer " + i + " weights");
            requireFinite(layers.get(i).bias(), "layer " + i + " bias");
        }
    }

    private static void requireFinite(float[] values, String what) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new BadRecordException(what + " has a non-finite value " + values[i] + " at index " + i);
            }
        }
    }

    /** Embedding size this head expects. */
    public int inputDimension() {
        return layers.get(0).inputs();
    }

    /** Class probabilities for one embedding. */
    public float[] probabilities(float[] embedding) {
        float[] v = embedding;
        for (DenseLayer layer : layers) {
            v = layer.apply(v);
        }
        return v;
    }

    /** Index into {@link #labels()} of the most probable class. */
    public int predict(float[] embedding) {
        return argmax(probabilities(embedding));
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Number of parameters over all layers. */
    public long parameterCount() {
        long n = 0;
        for (DenseLayer l : layers) {
            n += l.weights().length + l.bias().length;
        }
        return n;
    }

    /** Encodes this head in the {@code headwater.dense.v1} binary layout. */
    public byte[] encode() {
        List<byte[]> labelBytes = new ArrayList<>(labels.size());
        int size = 4 + 2 + 4;
        for (String label : labels) {
            byte[] b = label.getBytes(StandardCharsets.UTF_8);
            labelBytes.add(b);
            size += 4 + b.length;
        }
        size += 4;
        for (DenseLayer l : layers) {
            size += 4 + 4 + 1 + 4 * (l.weights().length + l.bias().length);
        }
        ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(MAGIC).putShort((short) FORMAT_VERSION).putInt(labels.size());
        for (byte[] b : labelBytes) {
            buf.putInt(b.length).put(b);
        }
        buf.putInt(layers.size());
        for (DenseLayer l : layers) {
            buf.putInt(l.inputs()).putInt(l.outputs()).put((byte) l.activation().code());
            for (float w : l.weights()) {
                buf.putFloat(w);
            }
            for (float b : l.bias()) {
                buf.putFloat(b);
            }
        }
        return buf.array();
    }

    /** Decodes a {@code headwater.dense.v1} artifact; a malformed one gives a {@link BadRecordException}. */
    public static HeadArtifact decode(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes cannot be null");
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int magic = buf.getInt();
            if (magic != MAGIC) {
                throw new BadRecordException("not a " + FORMAT + " artifact (bad magic number)");
            }
            int version = buf.getShort();
            if (version != FORMAT_VERSION) {
                throw new BadRecordException("unsupported head artifact format version " + version
                        + ", this build reads version " + FORMAT_VERSION);
            }
            int nLabels = checkedCount(buf.getInt(), buf.remaining() / 4, "label count");
            List<String> labels = new ArrayList<>(nLabels);
            for (int i = 0; i < nLabels; i++) {
                byte[] b = new byte[checkedCount(buf.getInt(), buf.remaining(), "label length")];
                buf.get(b);
                labels.add(new String(b, StandardCharsets.UTF_8));
            }
            int nLayers = checkedCount(buf.getInt(), buf.remaining() / 9, "layer count");
            List<DenseLayer> layers = new ArrayList<>(nLayers);
            for (int i = 0; i < nLayers; i++) {
                int in = buf.getInt();
                int out = buf.getInt();
                DenseLayer.Activation act = DenseLayer.Activation.ofCode(buf.get());
                long nWeights = (long) in * out;
                if (in < 1 || out < 1 || (nWeights + out) * 4 > buf.remaining()) {
                    throw new BadRecordException("layer " + i + " of " + out + " x " + in
                            + " does not fit the " + buf.remaining() + " bytes left");
                }
                float[] w = new float[(int) nWeights];
                buf.asFloatBuffer().get(w);
                buf.position(buf.position() + 4 * w.length);
                float[] b = new float[out];
                buf.asFloatBuffer().get(b);
                buf.position(buf.position() + 4 * b.length);
                layers.add(new DenseLayer(in, out, w, b, act));
            }
            if (buf.hasRemaining()) {
                throw new BadRecordException(buf.remaining() + " trailing bytes after the last layer");
            }
            return new HeadArtifact(labels, layers);
        } catch (java.nio.BufferUnderflowException e) {
            throw new BadRecordException("truncated " + FORMAT + " artifact of " + bytes.length + " bytes", e);
        }
    }

    private static int checkedCount(int n, int max, String what) {
        if (n < 0 || n > max) {
            throw new BadRecordException(what + " " + n + " is out of range (at most " + max + ")");
        }
        return n;
    }

    /** Lower-case hex SHA-256 of the given bytes. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new FatalException("SHA-256 is not available in this JVM", e);
        }
    }
}
