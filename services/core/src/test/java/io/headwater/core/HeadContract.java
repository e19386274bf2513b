package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What every head type promises, as one test class that each type's test extends with a factory
 * for a fresh head of {@link #D} dimensions (the size of the bundled backbone's embeddings):
 * learning, growing, drift reaction, export to {@code headwater.dense.v1} (checked by a reference
 * applier written here from {@code schemas/head-artifact-v1.md}, not by {@link HeadArtifact}'s own
 * code), and the round trip of the training state.
 *
 * <pre>{@code
 * class SgdHeadContractTest extends HeadContract {
 *     protected Head newHead() { return HeadType.SGD.create(D, HeadOptions.defaults()); }
 * }
 * }</pre>
 */
public abstract class HeadContract {
    protected static final int D = 384;
    private static final List<String> LABELS = List.of("north", "south", "east");

    /** A fresh, empty head of {@link #D} dimensions. */
    protected abstract Head newHead();

    /** Examples streamed to learn the blobs. */
    protected int trainingExamples() {
        return 1_500;
    }

    public record Example(float[] x, String label) {
    }

    /**
     * Three Gaussian blobs on the unit sphere (centres fixed, seed 1), spread 0.5 in total norm,
     * labels uniform; {@code shift} relabels them (blob {@code i} gets label {@code i + shift}), a
     * concept drift with the same inputs.
     */
    public static List<Example> blobs(int n, long seed, int shift) {
        Random centres = new Random(1);
        float[][] c = new float[LABELS.size()][D];
        for (float[] centre : c) {
            double norm = 0;
            for (int i = 0; i < D; i++) {
                centre[i] = (float) centres.nextGaussian();
                norm += centre[i] * centre[i];
            }
            for (int i = 0; i < D; i++) {
                centre[i] /= (float) Math.sqrt(norm);
            }
        }
        Random rnd = new Random(seed);
        List<Example> out = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            int blob = rnd.nextInt(c.length);
            float[] x = new float[D];
            for (int i = 0; i < D; i++) {
                x[i] = c[blob][i] + (float) (0.5 / Math.sqrt(D) * rnd.nextGaussian());
            }
            out.add(new Example(x, LABELS.get((blob + shift) % LABELS.size())));
        }
        return out;
    }

    private Head trained(int n) {
        Head head = newHead();
        blobs(n, 2, 0).forEach(e -> head.learn(e.x(), e.label()));
        return head;
    }

    private static double accuracy(Head head, List<Example> test) {
        return test.stream().filter(e -> head.predict(e.x()).equals(Optional.of(e.label()))).count()
                / (double) test.size();
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    public void shouldPredictNothingBeforeLearning() {
        Head head = newHead();
        assertThat(head.dimension()).isEqualTo(D);
        assertThat(head.labels()).isEmpty();
        assertThat(head.examplesLearned()).isZero();
        assertThat(head.predict(new float[D])).isEmpty();
        assertThat(head.scores(new float[D])).isEmpty();
    }

    @Test
    public void shouldLearnSeparableBlobs() {
        // given
        Head head = trained(trainingExamples());
        // when
        double accuracy = accuracy(head, blobs(300, 3, 0));
        // then
        assertThat(accuracy).isGreaterThanOrEqualTo(0.95);
        assertThat(head.examplesLearned()).isEqualTo(trainingExamples());
        assertThat(head.labels()).containsExactlyInAnyOrderElementsOf(LABELS);
    }

    @Test
    public void shouldGiveScoresThatAreProbabilitiesInLabelOrder() {
        Head head = trained(trainingExamples());
        for (Example e : blobs(50, 3, 0)) {
            double[] p = head.scores(e.x());
            assertThat(p).hasSize(head.labels().size());
            assertThat(Arrays.stream(p).sum()).isCloseTo(1.0, within(1e-5));
            assertThat(Arrays.stream(p).allMatch(v -> v >= 0 && v <= 1)).isTrue();
            assertThat(head.predict(e.x())).contains(head.labels().get(argmax(p)));
        }
    }

    @Test
    public void shouldGrowOnAddLabelWithoutChangingPredictions() {
        // given
        Head head = trained(trainingExamples());
        List<Example> test = blobs(200, 3, 0);
        List<Optional<String>> before = test.stream().map(e -> head.predict(e.x())).toList();
        // when
        head.addLabel("west");
        head.addLabel("north");
        // then
        assertThat(head.labels()).hasSize(4).endsWith("west");
        for (int i = 0; i < test.size(); i++) {
            double[] p = head.scores(test.get(i).x());
            assertThat(p).hasSize(4);
            assertThat(head.labels().get(argmax(p))).isEqualTo(before.get(i).orElseThrow());
            assertThat(head.predict(test.get(i).x())).isEqualTo(before.get(i));
        }
        assertThat(head.export().labels()).isEqualTo(head.labels());
    }

    @Test
    public void shouldLearnANewClassAfterTheOthers() {
        // given: a head that knows two blobs
        Head head = newHead();
        List<Example> data = blobs(2 * trainingExamples(), 2, 0);
        data.stream().filter(e -> !e.label().equals("east")).limit(trainingExamples() / 2)
                .forEach(e -> head.learn(e.x(), e.label()));
        assertThat(head.labels()).hasSize(2);
        // when: the third appears
        data.stream().limit(trainingExamples()).forEach(e -> head.learn(e.x(), e.label()));
        // then
        assertThat(head.labels()).endsWith("east");
        assertThat(accuracy(head, blobs(300, 3, 0))).isGreaterThanOrEqualTo(0.95);
    }

    @Test
    public void shouldKeepPredictionsOnDriftAndThenFollowTheNewConcept() {
        // given
        Head head = trained(trainingExamples());
        List<Example> test = blobs(200, 3, 0);
        List<Optional<String>> before = test.stream().map(e -> head.predict(e.x())).toList();
        // when
        head.reactToDrift();
        // then: nothing changes at once ...
        assertThat(test.stream().map(e -> head.predict(e.x())).toList()).isEqualTo(before);
        // ... and the relabelled blobs are learned
        blobs(trainingExamples(), 4, 1).forEach(e -> head.learn(e.x(), e.label()));
        assertThat(accuracy(head, blobs(300, 3, 1))).isGreaterThanOrEqualTo(0.9);
    }

    @Test
    public void shouldExportAnArtifactThatAReferenceApplierReproduces() {
        // given
        Head head = trained(trainingExamples());
        // when
        byte[] bytes = head.export().encode();
        ReferenceApplier reference = ReferenceApplier.parse(bytes);
        // then
        assertThat(reference.labels).isEqualTo(head.labels());
        for (Example e : blobs(100, 3, 0)) {
            double[] expected = head.scores(e.x());
            double[] actual = reference.apply(e.x());
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).isCloseTo(expected[i], within(1e-5));
            }
        }
    }

    @Test
    public void shouldRoundTripTrainingStateAndContinueIdentically() {
        // given
        List<Example> data = blobs(trainingExamples(), 2, 0);
        int half = data.size() / 2 + 7; // mid micro-batch for heads that buffer
        Head head = newHead();
        data.subList(0, half).forEach(e -> head.learn(e.x(), e.label()));
        // when
        ByteBuffer buf = ByteBuffer.allocate(head.encodedSize());
        head.encode(buf);
        assertThat(buf.hasRemaining()).as("encodedSize() is exact").isFalse();
        buf.flip();
        Head copy = head.type().decode(buf);
        // then
        List<Example> test = blobs(50, 3, 0);
        for (Example e : test) {
            assertThat(copy.scores(e.x())).containsExactly(head.scores(e.x()));
        }
        data.subList(half, data.size()).forEach(e -> {
            head.learn(e.x(), e.label());
            copy.learn(e.x(), e.label());
        });
        assertThat(copy.examplesLearned()).isEqualTo(head.examplesLearned());
        assertThat(copy.labels()).isEqualTo(head.labels());
        for (Example e : test) {
            assertThat(copy.scores(e.x())).containsExactly(head.scores(e.x()));
        }
        assertThat(copy.export()).isEqualTo(head.export());
    }

    @Test
    public void shouldRejectMalformedArtifacts() {
        byte[] good = trained(trainingExamples()).export().encode();
        // truncated anywhere
        for (int cut : new int[] {0, 3, 7, 11, good.length / 2, good.length - 1}) {
            assertThatThrownBy(() -> HeadArtifact.decode(Arrays.copyOf(good, cut)))
                    .as("cut at %d", cut).isInstanceOf(BadRecordException.class);
        }
        // trailing bytes
        assertThatThrownBy(() -> HeadArtifact.decode(Arrays.copyOf(good, good.length + 4)))
                .isInstanceOf(BadRecordException.class).hasMessageContaining("trailing");
        // wrong magic, wrong version
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertThatThrownBy(() -> HeadArtifact.decode(magic)).isInstanceOf(BadRecordException.class)
                .hasMessageContaining("magic");
        byte[] version = good.clone();
        version[4] = 9;
        assertThatThrownBy(() -> HeadArtifact.decode(version)).isInstanceOf(BadRecordException.class)
                .hasMessageContaining("version 9");
        // a NaN weight, an infinite bias of the last layer
        ReferenceApplier layout = ReferenceApplier.parse(good);
        byte[] nan = good.clone();
        ByteBuffer.wrap(nan).order(ByteOrder.LITTLE_ENDIAN).putFloat(layout.firstWeightOffset, Float.NaN);
        assertThatThrownBy(() -> HeadArtifact.decode(nan)).isInstanceOf(BadRecordException.class)
                .hasMessageContaining("NaN");
        byte[] inf = good.clone();
        ByteBuffer.wrap(inf).order(ByteOrder.LITTLE_ENDIAN).putFloat(good.length - 4, Float.POSITIVE_INFINITY);
        assertThatThrownBy(() -> HeadArtifact.decode(inf)).isInstanceOf(BadRecordException.class)
                .hasMessageContaining("Infinity");
        // an unknown activation, a negative label count
        byte[] activation = good.clone();
        activation[layout.firstWeightOffset - 1] = 7;
        assertThatThrownBy(() -> HeadArtifact.decode(activation)).isInstanceOf(BadRecordException.class)
                .hasMessageContaining("activation");
        byte[] labels = good.clone();
        ByteBuffer.wrap(labels).order(ByteOrder.LITTLE_ENDIAN).putInt(6, -1);
        assertThatThrownBy(() -> HeadArtifact.decode(labels)).isInstanceOf(BadRecordException.class)
                .hasMessageContaining("label count");
    }

    /**
     * Applies a {@code headwater.dense.v1} artifact, read straight from its bytes as
     * {@code schemas/head-artifact-v1.md} documents them, in double precision.
     */
    static final class ReferenceApplier {
        final List<String> labels = new ArrayList<>();
        final List<double[][]> weights = new ArrayList<>();
        final List<double[]> biases = new ArrayList<>();
        final List<Integer> activations = new ArrayList<>();
        int firstWeightOffset = -1;

        static ReferenceApplier parse(byte[] bytes) {
            ReferenceApplier r = new ReferenceApplier();
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(b.getInt()).isEqualTo(0x48444E31);
            assertThat(b.getShort()).isEqualTo((short) 1);
            int nLabels = b.getInt();
            for (int i = 0; i < nLabels; i++) {
                byte[] s = new byte[b.getInt()];
                b.get(s);
                r.labels.add(new String(s, StandardCharsets.UTF_8));
            }
            int nLayers = b.getInt();
            for (int l = 0; l < nLayers; l++) {
                int in = b.getInt();
                int out = b.getInt();
                r.activations.add(b.get() & 0xFF);
                if (r.firstWeightOffset < 0) {
                    r.firstWeightOffset = b.position();
                }
                double[][] w = new double[out][in];
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        w[o][i] = b.getFloat();
                    }
                }
                double[] bias = new double[out];
                for (int o = 0; o < out; o++) {
                    bias[o] = b.getFloat();
                }
                r.weights.add(w);
                r.biases.add(bias);
            }
            assertThat(b.hasRemaining()).isFalse();
            assertThat(r.activations.get(nLayers - 1)).as("last layer is softmax").isEqualTo(2);
            return r;
        }

        double[] apply(float[] x) {
            double[] v = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                v[i] = x[i];
            }
            for (int l = 0; l < weights.size(); l++) {
                double[][] w = weights.get(l);
                double[] next = biases.get(l).clone();
                for (int o = 0; o < w.length; o++) {
                    for (int i = 0; i < v.length; i++) {
                        next[o] += w[o][i] * v[i];
                    }
                }
                switch (activations.get(l)) {
                    case 0 -> { }
                    case 1 -> {
                        for (int o = 0; o < next.length; o++) {
                            next[o] = Math.max(0, next[o]);
                        }
                    }
                    case 2 -> {
                        double max = Arrays.stream(next).max().orElseThrow();
                        double sum = 0;
                        for (int o = 0; o < next.length; o++) {
                            next[o] = Math.exp(next[o] - max);
                            sum += next[o];
                        }
                        for (int o = 0; o < next.length; o++) {
                            next[o] /= sum;
                        }
                    }
                    default -> throw new AssertionError("unknown activation " + activations.get(l));
                }
                v = next;
            }
            return v;
        }
    }
}
