package io.headwater.sgd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.headwater.core.DenseLayer;
import io.headwater.core.HeadArtifact;
import io.headwater.core.HeadContract;
import io.headwater.core.HeadContract.Example;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadOptions.SgdOptions;
import io.headwater.core.HeadType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SgdHeadTest {
    private static final int D = 384;

    private static SgdHead head(SgdOptions options) {
        return (SgdHead) HeadType.SGD.create(D, HeadOptions.defaults().withSgd(options));
    }

    private static SgdHead trained(SgdOptions options, List<Example> data) {
        SgdHead head = head(options);
        data.forEach(e -> head.learn(e.x(), e.label()));
        return head;
    }

    @Test
    void shouldStayFiniteOnTheLargestValuesTheTrainerAccepts() {
        // given: a head that learned normal data, then examples at the trainer's bound (FeatureRecord.MAX_ABS_VALUE)
        SgdHead head = trained(SgdOptions.defaults(), HeadContract.blobs(200, 2, 0));
        float[] extreme = new float[D];
        for (int i = 0; i < D; i++) {
            extreme[i] = i % 2 == 0 ? 1e9f : -1e9f;
        }
        // when
        for (int i = 0; i < 64; i++) {
            head.learn(extreme, i % 2 == 0 ? "0" : "1");
        }
        // then: it still exports (an artifact refuses NaN weights) and predicts
        HeadArtifact a = head.export();
        assertThat(a.labels()).isNotEmpty();
        assertThat(head.predict(extreme)).isPresent();
    }

    @Test
    void shouldGiveBitIdenticalWeightsForTheSameSeedAndOrder() {
        // given
        List<Example> data = HeadContract.blobs(1_000, 5, 0);
        SgdOptions options = SgdOptions.defaults().withHidden(List.of(32, 16)).withSeed(7);
        // when
        HeadArtifact a = trained(options, data).export();
        HeadArtifact b = trained(options, data).export();
        HeadArtifact otherSeed = trained(options.withSeed(8), data).export();
        // then
        assertThat(a).isEqualTo(b);
        assertThat(a.layers()).hasSize(3);
        assertThat(otherSeed).isNotEqualTo(a);
    }

    @Test
    void shouldPredictWithTheSameNumbersAsDeeplearning4j() {
        SgdHead head = trained(SgdOptions.defaults(), HeadContract.blobs(600, 5, 0));
        for (Example e : HeadContract.blobs(50, 6, 0)) {
            double[] ours = head.scores(e.x());
            float[] theirs = head.networkOutput(e.x());
            for (int i = 0; i < ours.length; i++) {
                assertThat(ours[i]).isCloseTo(theirs[i], within(1e-5));
            }
        }
    }

    @Test
    void shouldKeepOldWeightsExactlyWhenANewLabelArrivesByExample() {
        // given: a head with a hidden layer that learned 2 classes, a whole number of micro-batches
        SgdOptions options = SgdOptions.defaults().withHidden(List.of(32));
        List<Example> two = HeadContract.blobs(2_000, 5, 0).stream().filter(e -> !e.label().equals("east"))
                .limit(options.newPerBatch() * 40L).toList();
        SgdHead head = trained(options, two);
        HeadArtifact before = head.export();
        List<Example> test = HeadContract.blobs(300, 6, 0);
        List<Optional<String>> predicted = test.stream().map(e -> head.predict(e.x())).toList();
        // when
        Example east = HeadContract.blobs(50, 7, 0).stream().filter(e -> e.label().equals("east")).findFirst()
                .orElseThrow();
        head.learn(east.x(), east.label());
        // then
        HeadArtifact after = head.export();
        assertThat(after.labels()).containsExactly(before.labels().get(0), before.labels().get(1), "east");
        assertThat(after.layers().get(0)).isEqualTo(before.layers().get(0));
        DenseLayer out0 = before.layers().get(1);
        DenseLayer out1 = after.layers().get(1);
        int in = out0.inputs();
        assertThat(Arrays.copyOf(out1.weights(), 2 * in)).containsExactly(out0.weights());
        assertThat(Arrays.copyOfRange(out1.weights(), 2 * in, 3 * in)).containsOnly(0f);
        assertThat(Arrays.copyOf(out1.bias(), 2)).containsExactly(out0.bias());
        assertThat(test.stream().map(e -> head.predict(e.x())).toList()).isEqualTo(predicted);
    }

    @Test
    void shouldResetMomentsAndBoostTheLearningRateForAWhileOnDrift() {
        // given
        SgdOptions options = SgdOptions.defaults();
        SgdHead head = trained(options, HeadContract.blobs(500, 5, 0));
        // when
        head.reactToDrift();
        // then
        assertThat(head.learningRate()).isEqualTo(options.learningRate() * options.driftBoost());
        ByteBuffer buf = ByteBuffer.allocate(head.encodedSize());
        head.encode(buf);
        SgdHead copy = (SgdHead) HeadType.SGD.decode(buf.flip());
        assertThat(copy.learningRate()).isEqualTo(head.learningRate());
        HeadContract.blobs(options.driftBoostExamples(), 6, 0).forEach(e -> head.learn(e.x(), e.label()));
        assertThat(head.learningRate()).isEqualTo(options.learningRate());
    }

    @Test
    void shouldKeepItsStateWellUnderEightMegabytesWhenFull() {
        // given: the default head with a full replay buffer and 20 classes
        SgdOptions options = SgdOptions.defaults();
        SgdHead head = head(options);
        List<Example> data = HeadContract.blobs(2 * options.replayCapacity(), 5, 0);
        for (int i = 0; i < data.size(); i++) {
            head.learn(data.get(i).x(), "class-" + (i % 20));
        }
        // then
        assertThat(head.replay().size()).isEqualTo(options.replayCapacity());
        assertThat(head.encodedSize()).isLessThan(2_000_000);
        assertThat(head.memoryBytes()).isBetween((long) head.encodedSize() / 2, 4_000_000L);
    }

    @Test
    void shouldRunEveryThreadsNdOpsWithTheConfiguredOpenMpThreads() throws Exception {
        // given: a head made and trained on this thread, then learning on a thread of its own (as a
        // trainer's stream thread does after another thread made the first head)
        SgdHead head = trained(SgdOptions.defaults(), HeadContract.blobs(64, 2, 0));
        int[] seen = new int[2];
        Thread stream = new Thread(() -> {
            seen[0] = Nd4jThreads.openMpThreadsOfThisThread();
            HeadContract.blobs(64, 2, 1).forEach(e -> head.learn(e.x(), e.label()));
            seen[1] = Nd4jThreads.openMpThreadsOfThisThread();
        });
        // when
        stream.start();
        stream.join();
        // then: a new thread starts at OpenMP's default (one per core), and learning sets it to
        // headwater.sgd.threads (1), so that a 2-core CI machine provokes the difference
        assertThat(seen[0]).as("a fresh thread's default").isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(seen[1]).isEqualTo(Integer.getInteger(Nd4jThreads.PROPERTY, 1));
    }
}
