package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.headwater.cli.Datasets;
import io.headwater.core.BatchLda;
import io.headwater.core.Head;
import io.headwater.core.HeadArtifact;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadType;
import io.headwater.core.LdaStatistics;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The streaming {@code lda} head on real embeddings (the bundled backbone on bundled food reviews)
 * against a direct batch computation of the same classifier, and against itself in another order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LdaOnRealEmbeddingsTest {
    static final double SHRINKAGE = HeadOptions.DEFAULT_LDA_SHRINKAGE;
    final List<float[]> xs = new ArrayList<>();
    final List<String> ys = new ArrayList<>();
    final List<float[]> heldOut = new ArrayList<>();

    @BeforeAll
    void embed() {
        List<Datasets.Line> lines = Datasets.shuffled(Datasets.bundled("fine-foods"), 7).subList(0, 700);
        try (Backbone backbone = Backbone.load(new BackboneSpec("all-minilm-l6-v2-q", 128, 32, 0))) {
            float[][] v = backbone.embed(lines.stream().map(l -> l.json().orElseThrow().get("text").asText()).toList());
            for (int i = 0; i < 600; i++) {
                xs.add(v[i]);
                ys.add(lines.get(i).json().orElseThrow().get("label").asText());
            }
            for (int i = 600; i < 700; i++) {
                heldOut.add(v[i]);
            }
        }
    }

    private Head streamed(List<Integer> order) {
        Head head = HeadType.LDA.create(xs.get(0).length, new HeadOptions(SHRINKAGE, 25));
        order.forEach(i -> head.learn(xs.get(i), ys.get(i)));
        return head;
    }

    private static List<Integer> range(int n) {
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            r.add(i);
        }
        return r;
    }

    @Test
    void shouldEqualTheBatchClassifierOnTheSameEmbeddings() {
        HeadArtifact streaming = streamed(range(xs.size())).export();
        HeadArtifact batch = BatchLda.solve(xs, ys, streaming.labels(), SHRINKAGE);
        float[] ws = streaming.layers().get(0).weights();
        float[] wb = batch.layers().get(0).weights();
        double scale = 0;
        for (float w : wb) {
            scale = Math.max(scale, Math.abs(w));
        }
        for (int i = 0; i < ws.length; i++) {
            assertThat((double) ws[i]).isCloseTo(wb[i], within(1e-4 * scale));
        }
        for (int c = 0; c < streaming.labels().size(); c++) {
            assertThat(streaming.layers().get(0).bias()[c]).isCloseTo(batch.layers().get(0).bias()[c], within(1e-3f));
        }
        for (float[] x : heldOut) {
            assertThat(streaming.predict(x)).isEqualTo(batch.predict(x));
        }
    }

    @Test
    void shouldGiveTheSameStatisticsWhateverTheArrivalOrder() {
        List<Integer> shuffled = range(xs.size());
        java.util.Collections.shuffle(shuffled, new Random(11));
        HeadArtifact a = streamed(range(xs.size())).export();
        HeadArtifact b = streamed(shuffled).export();
        // and split in three partitions, merged
        LdaStatistics merged = new LdaStatistics(xs.get(0).length);
        for (int part = 0; part < 3; part++) {
            LdaStatistics s = new LdaStatistics(xs.get(0).length);
            for (int i = part; i < xs.size(); i += 3) {
                s.add(xs.get(i), ys.get(i));
            }
            merged.merge(s);
        }
        HeadArtifact c = merged.solve(SHRINKAGE);
        for (float[] x : heldOut) {
            float[] pa = a.probabilities(x);
            float[] pb = b.probabilities(x);
            float[] pc = c.probabilities(x);
            for (String label : a.labels()) {
                float p = pa[a.labels().indexOf(label)];
                assertThat(pb[b.labels().indexOf(label)]).isCloseTo(p, within(1e-4f));
                assertThat(pc[c.labels().indexOf(label)]).isCloseTo(p, within(1e-4f));
            }
        }
    }
}
