package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LdaHeadTest {
    static final int D = 24;
    static final double SHRINKAGE = 0.2;

    /** Three Gaussian classes with different means and a shared, correlated covariance; seeded. */
    static List<Labeled> sample(int n, long seed) {
        Random rnd = new Random(seed);
        double[][] mix = new double[D][D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                mix[i][j] = (i == j ? 1.0 : 0.0) + 0.3 * rnd.nextGaussian();
            }
        }
        String[] labels = {"a", "b", "c"};
        double[][] centers = new double[3][D];
        for (double[] c : centers) {
            for (int i = 0; i < D; i++) {
                c[i] = 1.5 * rnd.nextGaussian();
            }
        }
        List<Labeled> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int c = rnd.nextInt(10) < 5 ? 0 : rnd.nextInt(2) + 1;
            double[] z = new double[D];
            for (int i = 0; i < D; i++) {
                z[i] = rnd.nextGaussian();
            }
            float[] x = new float[D];
            for (int i = 0; i < D; i++) {
                double v = centers[c][i];
                for (int j = 0; j < D; j++) {
                    v += mix[i][j] * z[j];
                }
                x[i] = (float) v;
            }
            out.add(new Labeled(x, labels[c]));
        }
        return out;
    }

    record Labeled(float[] x, String label) {
    }

    static Head trained(List<Labeled> data) {
        Head head = HeadType.LDA.create(D, new HeadOptions(SHRINKAGE, 25));
        data.forEach(e -> head.learn(e.x(), e.label()));
        return head;
    }

    @Test
    void shouldMatchBatchComputationOfTheSameClassifier() {
        // given
        List<Labeled> data = sample(2_000, 7);
        // when
        HeadArtifact streaming = trained(data).export();
        HeadArtifact batch = BatchLda.solve(data.stream().map(e -> e.x()).toList(),
                data.stream().map(e -> e.label()).toList(), streaming.labels(), SHRINKAGE);
        // then
        float[] ws = streaming.layers().get(0).weights();
        float[] wb = batch.layers().get(0).weights();
        double scale = 0;
        for (float v : wb) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < ws.length; i++) {
            assertThat((double) ws[i]).isCloseTo(wb[i], within(1e-4 * scale));
        }
        float[] bs = streaming.layers().get(0).bias();
        float[] bb = batch.layers().get(0).bias();
        for (int i = 0; i < bs.length; i++) {
            assertThat((double) bs[i]).isCloseTo(bb[i], within(1e-4 * Math.max(1, Math.abs(bb[i]))));
        }
        List<Labeled> test = sample(500, 8);
        for (Labeled e : test) {
            assertThat(streaming.predict(e.x())).isEqualTo(batch.predict(e.x()));
        }
    }

    @Test
    void shouldLearnSeparableClassesWellAboveChance() {
        // given: training data and held-out data from the same distribution
        Head head = trained(sample(2_000, 7));
        // when
        List<Labeled> test = sample(1_000, 7).subList(0, 1_000);
        long hits = test.stream().filter(e -> head.predict(e.x()).orElseThrow().equals(e.label())).count();
        // then: the majority class is about half; the classes are well apart
        assertThat(hits / 1000.0).isGreaterThan(0.9);
    }

    @Test
    void shouldGiveTheSameClassifierWhateverTheOrderOfExamples() {
        // given
        List<Labeled> data = sample(1_500, 11);
        List<Labeled> shuffled = new ArrayList<>(data);
        Collections.shuffle(shuffled, new Random(3));
        // when
        HeadArtifact a = trained(data).export();
        HeadArtifact b = trained(shuffled).export();
        // then
        for (Labeled e : sample(300, 12)) {
            float[] pa = a.probabilities(e.x());
            float[] pb = b.probabilities(e.x());
            for (String label : a.labels()) {
                assertThat(pa[a.labels().indexOf(label)])
                        .isCloseTo(pb[b.labels().indexOf(label)], within(1e-4f));
            }
        }
    }

    @Test
    void shouldSolveForANewLabelWithinSolveEveryExamplesButNotAtOnce() {
        // given: a head that learned 200 examples of two labels and solved (its interval is now a
        // tenth of that, 20, over trainer.solve.every = 10)
        Head head = HeadType.LDA.create(D, new HeadOptions(SHRINKAGE, 10));
        List<Labeled> ab = sample(400, 3).stream().filter(e -> !e.label().equals("c")).toList();
        List<Labeled> c = sample(400, 3).stream().filter(e -> e.label().equals("c")).toList();
        head.learn(ab.get(0).x(), "a");
        head.learn(ab.get(1).x(), "b");
        ab.subList(2, 200).forEach(e -> head.learn(e.x(), e.label()));
        head.predict(c.get(0).x());
        // when: a third label's first example
        head.learn(c.get(0).x(), "c");
        // then: it is not solved for at once (one solve per new label made many-label young heads
        // solve at every example), but within 10 examples, before the interval of 20 is up
        assertThat(head.scores(c.get(1).x())[2]).isZero();
        for (int i = 0; i < 8; i++) {
            head.learn(ab.get(200 + i).x(), ab.get(200 + i).label());
            assertThat(head.scores(c.get(1).x())[2]).as("after %d more", i + 1).isZero();
        }
        head.learn(ab.get(208).x(), ab.get(208).label());
        assertThat(head.scores(c.get(1).x())[2]).isPositive();
    }

    @Test
    void shouldPredictMajorityLabelBeforeFirstSolveAndNothingWhenEmpty() {
        Head head = HeadType.LDA.create(D, new HeadOptions(SHRINKAGE, 1_000));
        assertThat(head.predict(new float[D])).isEmpty();
        List<Labeled> data = sample(10, 1).stream().filter(e -> e.label().equals("a")).toList();
        data.forEach(e -> head.learn(e.x(), e.label()));
        assertThat(head.predict(new float[D])).contains("a");
    }

    @Test
    void shouldRoundTripTrainingStateExactly() {
        // given
        Head head = trained(sample(300, 5));
        ByteBuffer buf = ByteBuffer.allocate(head.encodedSize());
        head.encode(buf);
        assertThat(buf.hasRemaining()).isFalse();
        buf.flip();
        // when
        Head copy = HeadType.LDA.decode(buf);
        List<Labeled> more = sample(100, 6);
        more.forEach(e -> {
            head.learn(e.x(), e.label());
            copy.learn(e.x(), e.label());
        });
        // then
        assertThat(copy.export()).isEqualTo(head.export());
        assertThat(copy.examplesLearned()).isEqualTo(400);
    }

    @Test
    void shouldForgetByScalingWeightsButKeepMeansAndCounts() {
        // given
        LdaStatistics stats = new LdaStatistics(D);
        sample(300, 5).forEach(e -> stats.add(e.x(), e.label()));
        double[][] means = stats.means();
        long count = stats.count("a");
        // when
        stats.forget(0.1);
        // then
        assertThat(stats.weight()).isCloseTo(30.0, within(1e-9));
        assertThat(stats.weight("a")).isCloseTo(0.1 * count, within(1e-9));
        assertThat(stats.count("a")).isEqualTo(count);
        double[][] after = stats.means();
        for (int c = 0; c < means.length; c++) {
            for (int i = 0; i < D; i++) {
                assertThat(after[c][i]).isCloseTo(means[c][i], within(1e-12));
            }
        }
    }

    @Test
    void shouldFollowTheNewDistributionFasterAfterForgetting() {
        // given: two heads that learned the same past, one of which forgets on drift
        List<Labeled> past = sample(2_000, 7);
        Head keeping = HeadType.LDA.create(D, new HeadOptions(SHRINKAGE, 25).withLdaForget(1.0));
        Head forgetting = HeadType.LDA.create(D, new HeadOptions(SHRINKAGE, 25).withLdaForget(0.05));
        past.forEach(e -> {
            keeping.learn(e.x(), e.label());
            forgetting.learn(e.x(), e.label());
        });
        keeping.reactToDrift();
        forgetting.reactToDrift();
        // when: the labels of a and b swap, 200 examples of the new concept
        List<Labeled> swapped = sample(400, 9).stream().map(e -> new Labeled(e.x(),
                e.label().equals("a") ? "b" : e.label().equals("b") ? "a" : e.label())).toList();
        swapped.subList(0, 200).forEach(e -> {
            keeping.learn(e.x(), e.label());
            forgetting.learn(e.x(), e.label());
        });
        // then
        List<Labeled> test = swapped.subList(200, 400);
        long hitsKeeping = test.stream().filter(e -> keeping.predict(e.x()).orElseThrow().equals(e.label())).count();
        long hitsForgetting = test.stream().filter(e -> forgetting.predict(e.x()).orElseThrow().equals(e.label()))
                .count();
        assertThat(hitsForgetting / 200.0).isGreaterThan(0.85);
        assertThat(hitsKeeping).isLessThan(hitsForgetting - 40);
    }

    @Test
    void shouldReadStatisticsOfTheFormatWithoutWeights() {
        // given: version 1 bytes (no weights), written by hand
        LdaStatistics stats = new LdaStatistics(2);
        stats.add(new float[] {1, 2}, "a");
        stats.add(new float[] {3, 4}, "b");
        ByteBuffer v1 = ByteBuffer.allocate(4 + 4 + 8 + 4 + 2 * (4 + 1 + 8 + 16) + 8 * 3);
        v1.putInt(1).putInt(2).putLong(2).putInt(2);
        v1.putInt(1).put((byte) 'a').putLong(1).putDouble(1).putDouble(2);
        v1.putInt(1).put((byte) 'b').putLong(1).putDouble(3).putDouble(4);
        v1.putDouble(1 + 9).putDouble(2 + 12).putDouble(4 + 16);
        // when
        LdaStatistics decoded = LdaStatistics.decode(v1.flip());
        // then
        assertThat(decoded.weight("b")).isEqualTo(1.0);
        assertThat(decoded.solve(0.2)).isEqualTo(stats.solve(0.2));
    }
}
