package io.headwater.sgd;

import io.headwater.core.BadRecordException;
import io.headwater.core.DenseLayer;
import io.headwater.core.FatalException;
import io.headwater.core.Head;
import io.headwater.core.HeadArtifact;
import io.headwater.core.HeadOptions.SgdOptions;
import io.headwater.core.HeadType;
import io.headwater.core.ReplayBuffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Fine-tuning as the transfer-learning literature does it: a small network over the frozen
 * embedding ({@code 0..n} hidden relu layers, softmax output), trained with Adam on micro-batches
 * through deeplearning4j.
 *
 * <ul>
 *   <li><b>Micro-batches.</b> {@link #learn} buffers examples; when {@link SgdOptions#newPerBatch()}
 *   new ones are buffered the network takes one Adam step on them together with
 *   {@code batchSize - newPerBatch} examples drawn from the replay buffer.</li>
 *   <li><b>Replay.</b> Every learned example is offered to a per-task {@link ReplayBuffer} (reservoir
 *   sampling, seeded), so old classes keep appearing in the updates.</li>
 *   <li><b>Growing.</b> A label never seen adds one output column; every other weight, and the Adam
 *   moments, are kept exactly. The new column starts with zero weights and a bias one below the
 *   smallest logit of any class over the replayed (and buffered) examples:
 *   {@code b = min_x min_j z_j(x) - 1}. So on every stored example, and in practice on inputs like
 *   them (in the tests, also on a blob never seen), the new class scores below every old one and no
 *   prediction changes at that moment. Its probability then rises as examples of it are learned:
 *   the zero weights move along the new class's hidden activations from the first step. (An input
 *   far from anything seen could in principle score higher on it: no finite bias rules that out
 *   for unbounded inputs; a bias from a worst-case bound would be so low that the class would take
 *   thousands of steps to appear.) DL4J's {@code nOutReplace} re-initialises the whole output layer, so growing copies the
 *   parameters itself.</li>
 *   <li><b>Drift.</b> {@link #reactToDrift()} restarts Adam (its moments describe the old
 *   distribution's gradients) and multiplies the learning rate by {@code driftBoost} for the next
 *   {@code driftBoostExamples} examples.</li>
 *   <li><b>Determinism.</b> Weights are initialised here from the seed (He normal for hidden layers,
 *   zeros for the output layer), replay is seeded, and ND4J runs single-threaded by default
 *   ({@link Nd4jThreads}): the same seed and the same examples in the same order give bit-identical
 *   weights, also across {@link #encode}/decode.</li>
 * </ul>
 *
 * <p>Predictions and {@link #scores} run in plain Java on a copy of the weights, refreshed after a
 * fit when next needed (a forward pass through DL4J costs more in call overhead than the
 * arithmetic); {@link #export()}
 * writes the same weights as a {@code headwater.dense.v1} artifact.
 *
 * <pre>{@code
 * Head head = HeadType.SGD.create(384, HeadOptions.defaults());
 * head.learn(embedding, "spam");
 * }</pre>
 */
public final class SgdHead implements Head {
    private static final int FORMAT_VERSION = 1;
    /** How far below the smallest logit seen a new class's bias starts. */
    private static final float NEW_CLASS_MARGIN = 1f;

    private final int dimension;
    private final SgdOptions options;
    private final int newPerBatch;
    private final List<String> labels = new ArrayList<>();
    private final ReplayBuffer replay;
    private final float[] pendingX;
    private final int[] pendingY;
    private int pending;
    private long learned;
    private int boostLeft;
    private MultiLayerNetwork net;
    /** A copy of the network's parameters for prediction; DL4J's layout: per layer W (nIn x nOut, 'f' order), b. */
    private float[] weights = new float[0];
    private boolean weightsStale;
    /** {@link #export()} of the current weights, for predictions; null until needed after a change. */
    private HeadArtifact forward;

    SgdHead(int dimension, SgdOptions options) {
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be >= 1, found " + dimension);
        }
        Nd4jThreads.onThisThread();
        this.dimension = dimension;
        this.options = Objects.requireNonNull(options, "options cannot be null");
        this.newPerBatch = options.newPerBatch();
        this.replay = new ReplayBuffer(options.replayCapacity(), dimension, options.seed());
        this.pendingX = new float[newPerBatch * dimension];
        this.pendingY = new int[newPerBatch];
    }

    private SgdHead(int dimension, SgdOptions options, ReplayBuffer replay) {
        Nd4jThreads.onThisThread();
        this.dimension = dimension;
        this.options = options;
        this.newPerBatch = options.newPerBatch();
        this.replay = replay;
        this.pendingX = new float[newPerBatch * dimension];
        this.pendingY = new int[newPerBatch];
    }

    @Override
    public HeadType type() {
        return HeadType.SGD;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    /** The settings this head was made with. */
    public SgdOptions options() {
        return options;
    }

    @Override
    public List<String> labels() {
        return List.copyOf(labels);
    }

    /** Examples passed to {@link #learn}, including those still waiting for their micro-batch. */
    @Override
    public long examplesLearned() {
        return learned;
    }

    /** Adam steps taken since the head was made or last reacted to drift. */
    public int steps() {
        return net == null ? 0 : net.getIterationCount();
    }

    /** The replay buffer (live, not a copy). */
    public ReplayBuffer replay() {
        return replay;
    }

    /**
     * Bytes this head holds at most, once its replay buffer is full: parameters, their gradient and
     * two Adam moments (float32, off-heap in ND4J), the Java copy of the parameters, the
     * micro-batch buffer and the replay buffer. Labels and object headers are not counted.
     */
    public long memoryBytes() {
        long params = parameterCount(labels.size());
        return 4 * params * 5 + 4L * pendingX.length + 4L * pendingY.length
                + ReplayBuffer.memoryBytesAtCapacity(options.replayCapacity(), dimension);
    }

    private long parameterCount(int classes) {
        long n = 0;
        int in = dimension;
        for (int h : options.hidden()) {
            n += (long) in * h + h;
            in = h;
        }
        return n + (long) in * classes + classes;
    }

    @Override
    public Optional<String> predict(float[] embedding) {
        if (learned == 0) {
            return Optional.empty();
        }
        return Optional.of(labels.get(forward(embedding).predict(embedding)));
    }

    /** Softmax probabilities in {@link #labels()} order; empty when nothing has been learned. */
    @Override
    public double[] scores(float[] embedding) {
        if (learned == 0) {
            return new double[0];
        }
        float[] p = forward(embedding).probabilities(embedding);
        double[] out = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = p[i];
        }
        return out;
    }

    /**
     * The head as its portable artifact, which predicts in plain Java (cheaper than a DL4J call per
     * example); rebuilt only after a step or a new label changed the weights.
     */
    private HeadArtifact forward(float[] x) {
        if (x.length != dimension) {
            throw new BadRecordException("embedding has " + x.length + " values, the head expects " + dimension);
        }
        if (forward == null || weightsStale) {
            forward = export();
        }
        return forward;
    }

    private List<Integer> layerSizes(int classes) {
        List<Integer> sizes = new ArrayList<>(options.hidden());
        sizes.add(classes);
        return sizes;
    }

    @Override
    public void learn(float[] embedding, String label) {
        Nd4jThreads.onThisThread();
        Objects.requireNonNull(label, "label cannot be null");
        if (embedding.length != dimension) {
            throw new BadRecordException("embedding has " + embedding.length + " values, the head expects "
                    + dimension);
        }
        int c = classIndex(label);
        System.arraycopy(embedding, 0, pendingX, pending * dimension, dimension);
        pendingY[pending++] = c;
        learned++;
        if (boostLeft > 0 && --boostLeft == 0) {
            net.setLearningRate(options.learningRate());
        }
        if (pending == newPerBatch) {
            fitPending();
        }
    }

    @Override
    public void addLabel(String label) {
        Nd4jThreads.onThisThread();
        classIndex(Objects.requireNonNull(label, "label cannot be null"));
    }

    private int classIndex(String label) {
        int c = labels.indexOf(label);
        if (c < 0) {
            grow(label);
            c = labels.size() - 1;
        }
        return c;
    }

    /**
     * Restarts Adam (moments to zero and its step count too, so that bias correction treats the
     * next steps as the first) and boosts the learning rate for the next {@code driftBoostExamples}
     * examples.
     */
    @Override
    public void reactToDrift() {
        Nd4jThreads.onThisThread();
        if (net == null) {
            return;
        }
        net.getUpdater().getStateViewArray().assign(0);
        net.setIterationCount(0);
        boostLeft = options.driftBoostExamples();
        net.setLearningRate(learningRate());
    }

    /** The learning rate in force now (boosted after drift). */
    double learningRate() {
        return boostLeft > 0 ? options.learningRate() * options.driftBoost() : options.learningRate();
    }

    /** One Adam step on the buffered examples plus replayed ones, then the buffered ones go to replay. */
    private void fitPending() {
        int[] fromReplay = replay.sample(options.batchSize() - pending);
        int rows = pending + fromReplay.length;
        int k = labels.size();
        float[] x = new float[rows * dimension];
        float[] y = new float[rows * k];
        System.arraycopy(pendingX, 0, x, 0, pending * dimension);
        for (int r = 0; r < pending; r++) {
            y[r * k + pendingY[r]] = 1;
        }
        for (int j = 0; j < fromReplay.length; j++) {
            int r = pending + j;
            replay.copyEmbedding(fromReplay[j], x, r * dimension);
            y[r * k + replay.label(fromReplay[j])] = 1;
        }
        net.fit(Nd4j.create(x, new long[] {rows, dimension}, 'c'), Nd4j.create(y, new long[] {rows, k}, 'c'));
        for (int r = 0; r < pending; r++) {
            replay.offer(Arrays.copyOfRange(pendingX, r * dimension, (r + 1) * dimension), pendingY[r]);
        }
        pending = 0;
        weightsStale = true;
    }

    /** Adds an output column for a new label, keeping every other parameter and Adam moment. */
    private void grow(String label) {
        int old = labels.size();
        float[] params;
        float[] state = null;
        if (net == null) {
            params = initialParameters();
        } else {
            float newBias = newClassBias();
            params = widenOutput(weights(), old, 0f, newBias);
            float[] s = floats(net.getUpdater().getStateViewArray());
            int n = weights.length;
            float[] m = widenOutput(Arrays.copyOfRange(s, 0, n), old, 0f, 0f);
            float[] v = widenOutput(Arrays.copyOfRange(s, n, 2 * n), old, 0f, 0f);
            state = new float[2 * m.length];
            System.arraycopy(m, 0, state, 0, m.length);
            System.arraycopy(v, 0, state, m.length, v.length);
        }
        int steps = steps();
        labels.add(label);
        net = network(labels.size(), params, state, steps);
        weights = params;
        weightsStale = false;
        forward = null;
    }

    /** The Java copy of the network's parameters, refreshed if a fit changed them. */
    private float[] weights() {
        if (weightsStale) {
            weights = floats(net.params());
            weightsStale = false;
            forward = null;
        }
        return weights;
    }

    /**
     * The values of an array that owns its whole buffer (the parameters, the updater state):
     * copying the buffer is several times faster than {@code toFloatVector()}.
     */
    private static float[] floats(INDArray a) {
        return a.data().length() == a.length() && a.offset() == 0 ? a.data().asFloat() : a.toFloatVector();
    }

    /**
     * See the class comment: one below the smallest logit over what the head has seen (computed by
     * ND4J in one batch: at 500 replayed examples that is one matrix product instead of 500 passes).
     */
    private float newClassBias() {
        int rows = replay.size() + pending;
        if (rows == 0) {
            // Nothing seen yet: the output weights are still zero, so the logits are the biases.
            float lowest = Float.POSITIVE_INFINITY;
            int offset = weights().length - labels.size();
            for (int c = 0; c < labels.size(); c++) {
                lowest = Math.min(lowest, weights[offset + c]);
            }
            return lowest - NEW_CLASS_MARGIN;
        }
        float[] x = new float[rows * dimension];
        for (int i = 0; i < replay.size(); i++) {
            replay.copyEmbedding(i, x, i * dimension);
        }
        System.arraycopy(pendingX, 0, x, replay.size() * dimension, pending * dimension);
        INDArray in = Nd4j.create(x, new long[] {rows, dimension}, 'c');
        int hidden = options.hidden().size();
        INDArray h = hidden == 0 ? in : net.feedForwardToLayer(hidden - 1, in, false).get(hidden);
        Layer out = net.getLayer(hidden);
        INDArray z = h.mmul(out.getParam("W")).addiRowVector(out.getParam("b"));
        return z.minNumber().floatValue() - NEW_CLASS_MARGIN;
    }

    /** The same parameter vector with one more output column: weights {@code w}, bias {@code b}. */
    private float[] widenOutput(float[] flat, int classes, float w, float b) {
        int in = options.hidden().isEmpty() ? dimension : options.hidden().get(options.hidden().size() - 1);
        int start = flat.length - in * classes - classes;
        float[] out = new float[flat.length + in + 1];
        // Everything before the output layer, then its W (nIn x nOut, 'f' order: column o is contiguous).
        System.arraycopy(flat, 0, out, 0, start + in * classes);
        Arrays.fill(out, start + in * classes, start + in * (classes + 1), w);
        int oldBias = start + in * classes;
        int newBias = start + in * (classes + 1);
        System.arraycopy(flat, oldBias, out, newBias, classes);
        out[newBias + classes] = b;
        return out;
    }

    /** He-normal hidden layers from the seed, a zero output layer with one class. */
    private float[] initialParameters() {
        float[] p = new float[(int) parameterCount(1)];
        Random rnd = new Random(options.seed());
        int offset = 0;
        int in = dimension;
        for (int h : options.hidden()) {
            double sd = Math.sqrt(2.0 / in);
            for (int i = 0; i < in * h; i++) {
                p[offset + i] = (float) (sd * rnd.nextGaussian());
            }
            offset += in * h + h;
            in = h;
        }
        return p;
    }

    private MultiLayerNetwork network(int classes, float[] params, float[] updaterState, int steps) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(options.seed())
                .dataType(DataType.FLOAT)
                .updater(new Adam(learningRate()))
                .l2(options.l2())
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .list();
        int in = dimension;
        for (int h : options.hidden()) {
            b.layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(in).nOut(h)
                    .activation(Activation.RELU).build());
            in = h;
        }
        b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(in).nOut(classes)
                .activation(Activation.SOFTMAX).build());
        // One class is a legal (if trivial) state of a growing head.
        MultiLayerConfiguration conf = b.validateOutputLayerConfig(false).build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init(Nd4j.create(params, new long[] {1, params.length}, 'c'), false);
        n.setIterationCount(steps);
        INDArray state = n.getUpdater().getStateViewArray();
        if (state.length() != 2L * params.length) {
            throw new FatalException("expected one Adam block of " + 2L * params.length + " values, DL4J made "
                    + state.length());
        }
        if (updaterState != null) {
            state.assign(Nd4j.create(updaterState, new long[] {1, updaterState.length}, 'c'));
        }
        return n;
    }

    /**
     * The network as a portable artifact: one {@code relu} dense layer per hidden layer, then the
     * softmax output. DL4J keeps W as {@code nIn x nOut} in column-major order, which is exactly the
     * artifact's row-major {@code [outputs][inputs]}.
     */
    @Override
    public HeadArtifact export() {
        Nd4jThreads.onThisThread();
        if (learned == 0) {
            throw new IllegalStateException("cannot export an sgd head that has learned nothing");
        }
        float[] weights = weights();
        List<DenseLayer> layers = new ArrayList<>();
        List<Integer> sizes = layerSizes(labels.size());
        int offset = 0;
        int in = dimension;
        for (int l = 0; l < sizes.size(); l++) {
            int out = sizes.get(l);
            float[] w = Arrays.copyOfRange(weights, offset, offset + in * out);
            float[] bias = Arrays.copyOfRange(weights, offset + in * out, offset + in * out + out);
            layers.add(new DenseLayer(in, out, w, bias,
                    l < sizes.size() - 1 ? DenseLayer.Activation.RELU : DenseLayer.Activation.SOFTMAX));
            offset += in * out + out;
            in = out;
        }
        return new HeadArtifact(labels, layers);
    }

    /** Probabilities computed by DL4J itself (for checking the Java copy), in {@link #labels()} order. */
    float[] networkOutput(float[] embedding) {
        return net.output(Nd4j.create(embedding, new long[] {1, dimension}, 'c')).toFloatVector();
    }

    @Override
    public int encodedSize() {
        int size = 4 + 4 + 4 + 4 * options.hidden().size() + 8 + 8 + 4 + 8 + 4 + 8 + 8 + 4;
        size += 4;
        for (String l : labels) {
            size += 4 + l.getBytes(StandardCharsets.UTF_8).length;
        }
        size += 8 + 4 + 4 + 4 + 4 * 3 * weights.length;
        size += 4 + pending * (4 + 4 * dimension);
        return size + replay.encodedSize();
    }

    /** Writes options, labels, parameters, Adam moments, the unfinished micro-batch and the replay buffer (float32). */
    @Override
    public void encode(ByteBuffer buf) {
        Nd4jThreads.onThisThread();
        buf.putInt(FORMAT_VERSION).putInt(dimension).putInt(options.hidden().size());
        options.hidden().forEach(buf::putInt);
        buf.putDouble(options.learningRate()).putDouble(options.l2()).putInt(options.batchSize())
                .putLong(options.seed()).putInt(options.replayCapacity()).putDouble(options.replayRatio())
                .putDouble(options.driftBoost()).putInt(options.driftBoostExamples());
        buf.putInt(labels.size());
        for (String l : labels) {
            byte[] b = l.getBytes(StandardCharsets.UTF_8);
            buf.putInt(b.length).put(b);
        }
        float[] weights = weights();
        buf.putLong(learned).putInt(boostLeft).putInt(steps()).putInt(weights.length);
        putFloats(buf, weights, weights.length);
        if (net != null) {
            float[] state = floats(net.getUpdater().getStateViewArray());
            putFloats(buf, state, state.length);
        }
        buf.putInt(pending);
        for (int r = 0; r < pending; r++) {
            buf.putInt(pendingY[r]);
        }
        putFloats(buf, pendingX, pending * dimension);
        replay.encode(buf);
    }

    private static void putFloats(ByteBuffer buf, float[] values, int n) {
        buf.asFloatBuffer().put(values, 0, n);
        buf.position(buf.position() + 4 * n);
    }

    private static float[] getFloats(ByteBuffer buf, int n) {
        if (n < 0 || 4L * n > buf.remaining()) {
            throw new BadRecordException("sgd head state says " + n + " floats follow, " + buf.remaining()
                    + " bytes are left");
        }
        float[] values = new float[n];
        buf.asFloatBuffer().get(values);
        buf.position(buf.position() + 4 * n);
        return values;
    }

    /** Reads a head written by {@link #encode(ByteBuffer)}. */
    static SgdHead decode(ByteBuffer buf) {
        int version = buf.getInt();
        if (version != FORMAT_VERSION) {
            throw new BadRecordException("unsupported sgd head state format version " + version);
        }
        int dimension = buf.getInt();
        int nHidden = buf.getInt();
        if (dimension < 1 || nHidden < 0 || nHidden > 64) {
            throw new BadRecordException("sgd head state of dimension " + dimension + " with " + nHidden
                    + " hidden layers");
        }
        List<Integer> hidden = new ArrayList<>();
        for (int i = 0; i < nHidden; i++) {
            hidden.add(buf.getInt());
        }
        SgdOptions options = new SgdOptions(hidden, buf.getDouble(), buf.getDouble(), buf.getInt(), buf.getLong(),
                buf.getInt(), buf.getDouble(), buf.getDouble(), buf.getInt());
        int k = buf.getInt();
        List<String> labels = new ArrayList<>(k);
        for (int c = 0; c < k; c++) {
            byte[] b = new byte[buf.getInt()];
            buf.get(b);
            labels.add(new String(b, StandardCharsets.UTF_8));
        }
        long learned = buf.getLong();
        int boostLeft = buf.getInt();
        int steps = buf.getInt();
        float[] params = getFloats(buf, buf.getInt());
        float[] state = params.length == 0 ? null : getFloats(buf, 2 * params.length);
        int pending = buf.getInt();
        int[] pendingY = new int[Math.max(0, pending)];
        for (int r = 0; r < pending; r++) {
            pendingY[r] = buf.getInt();
        }
        float[] pendingX = getFloats(buf, pending * dimension);
        SgdHead head = new SgdHead(dimension, options, ReplayBuffer.decode(buf));
        if (pending < 0 || pending >= head.newPerBatch) {
            throw new BadRecordException("sgd head state has " + pending + " buffered examples for micro-batches of "
                    + head.newPerBatch);
        }
        if (params.length != (k == 0 ? 0 : head.parameterCount(k))) {
            throw new BadRecordException("sgd head state has " + params.length + " parameters, " + k
                    + " classes need " + head.parameterCount(k));
        }
        head.labels.addAll(labels);
        head.learned = learned;
        head.boostLeft = boostLeft;
        head.pending = pending;
        System.arraycopy(pendingX, 0, head.pendingX, 0, pendingX.length);
        System.arraycopy(pendingY, 0, head.pendingY, 0, pending);
        if (k > 0) {
            head.net = head.network(k, params, state, steps);
            head.weights = params;
        }
        return head;
    }
}
