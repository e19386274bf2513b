package io.headwater.core.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.core.HeadOptions;
import io.headwater.core.HeadType;
import io.headwater.core.SparseVector;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EvaluationTest {
    static final int DIM = 16;
    final HeadVariant lda = new HeadVariant("lda", HeadType.LDA, HeadOptions.defaults());

    /** Gaussian clusters around one axis per label: separable, so a good head nears 1. */
    static List<Example> clusters(int n, int labels, long seed) {
        Random random = new Random(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int c = random.nextInt(labels);
            float[] x = new float[DIM];
            for (int j = 0; j < DIM; j++) {
                x[j] = (float) (random.nextGaussian() * 0.35 + (j == c ? 1 : 0));
            }
            out.add(new Example(x, SparseVector.dense(x), "c" + c));
        }
        return out;
    }

    @Test
    void shouldScoreEachExampleBeforeLearningItAndReportPointsAtEveryStep() {
        List<Example> stream = clusters(1000, 4, 1);
        StreamRun run = Evaluation.prequential(lda, DIM, stream, Evaluation.Settings.of(200, 100));
        assertThat(run.windowed()).extracting(Point::examples).containsExactly(100L, 200L, 300L, 400L, 500L, 600L,
                700L, 800L, 900L, 1000L);
        assertThat(run.finalWindowed()).isGreaterThan(0.9);
        // the first prediction cannot be right (nothing learned), so cumulative < 1
        assertThat(run.cumulative()).isLessThan(1).isGreaterThan(0.85);
        assertThat(run.head().examplesLearned()).isEqualTo(1000);
    }

    @Test
    void shouldMatchTheOfflineLdaExactlyAfterOnePass() {
        List<Example> train = clusters(800, 4, 2);
        List<Example> test = clusters(400, 4, 3);
        double streaming = Evaluation.accuracy(Evaluation.prequential(lda, DIM, train, Evaluation.Settings.of(100, 100))
                .head(), test);
        double offline = Evaluation.accuracy(Evaluation.offline(lda, DIM, train, 1, 9), test);
        assertThat(streaming).isEqualTo(offline).isGreaterThan(0.9);
    }

    @Test
    void shouldReportTheLabelFlipOnceAsARiseOfTheError() {
        List<Example> stream = Evaluation.labelDrift(clusters(2000, 2, 4), 1000);
        StreamRun run = Evaluation.prequential(lda, DIM, stream, Evaluation.Settings.of(100, 50).withDrift(0.002, false));
        List<Detection> rises = run.detections().stream().filter(Detection::errorRose).toList();
        assertThat(rises).hasSize(1);
        assertThat(rises.get(0).example()).isBetween(1001L, 1200L);
    }

    @Test
    void shouldRotateLabelsAfterTheChangePoint() {
        List<Example> stream = clusters(10, 3, 5);
        List<Example> drifted = Evaluation.labelDrift(stream, 5);
        for (int i = 0; i < 10; i++) {
            String before = stream.get(i).label();
            String expected = i < 5 ? before : "c" + ((before.charAt(1) - '0' + 1) % 3);
            assertThat(drifted.get(i).label()).isEqualTo(expected);
        }
    }

    @Test
    void shouldStreamLabelGroupsOneAfterAnother() {
        List<Example> train = clusters(300, 6, 6);
        List<List<String>> groups = Evaluation.labelGroups(train, 4, 1);
        assertThat(groups).hasSize(2);
        assertThat(groups.get(0)).hasSize(4);
        assertThat(groups.get(1)).hasSize(2);
        List<Example> stream = Evaluation.classIncremental(train, groups);
        assertThat(stream).hasSize(300);
        int firstOfSecond = Evaluation.withLabels(train, groups.get(0)).size();
        assertThat(stream.subList(0, firstOfSecond)).allMatch(e -> groups.get(0).contains(e.label()));
        assertThat(stream.subList(firstOfSecond, 300)).allMatch(e -> groups.get(1).contains(e.label()));
    }

    @Test
    void shouldCompareBackboneAndWordFeaturesAtEachBudget() {
        List<Example> train = clusters(300, 3, 7);
        List<Example> test = clusters(100, 3, 8);
        List<Evaluation.BudgetResult> results = Evaluation.labelBudgets(train, test, new int[] {20, 100, 1000}, 2,
                List.of(lda), DIM, DIM, 1);
        // 1000 > 300 training examples: skipped
        assertThat(results).extracting(Evaluation.BudgetResult::labels).containsOnly(20, 100);
        assertThat(results).extracting(Evaluation.BudgetResult::method)
                .contains(Evaluation.BACKBONE_LOGREG, Evaluation.BOW_LOGREG, "backbone+lda");
        assertThat(results).allSatisfy(r -> {
            assertThat(r.accuracies()).hasSize(2);
            assertThat(r.mean()).isBetween(0.0, 1.0);
        });
    }
}
