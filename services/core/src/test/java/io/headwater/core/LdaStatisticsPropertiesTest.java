package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Merging partial statistics in any order or grouping (any partition of the stream, parts merged in
 * a random binary tree) equals processing the whole stream.
 */
class LdaStatisticsPropertiesTest {

    @Property(tries = 40, seed = "20261127")
    void mergingPartitionsInAnyOrderEqualsTheWholeStream(@ForAll @IntRange(min = 1, max = 6) int parts,
                                                        @ForAll long seed) {
        // given
        List<LdaHeadTest.Labeled> data = LdaHeadTest.sample(400, seed);
        LdaStatistics whole = new LdaStatistics(LdaHeadTest.D);
        data.forEach(e -> whole.add(e.x(), e.label()));
        Random rnd = new Random(seed);
        List<LdaStatistics> partials = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            partials.add(new LdaStatistics(LdaHeadTest.D));
        }
        data.forEach(e -> partials.get(rnd.nextInt(parts)).add(e.x(), e.label()));
        Collections.shuffle(partials, rnd);
        // when: merged in a random grouping (a random binary tree over the shuffled parts)
        while (partials.size() > 1) {
            int i = rnd.nextInt(partials.size() - 1);
            LdaStatistics left = partials.remove(i);
            LdaStatistics right = partials.remove(i);
            LdaStatistics parent = rnd.nextBoolean() ? left.copy() : new LdaStatistics(LdaHeadTest.D);
            if (parent.count() == 0) {
                parent.merge(left);
            }
            parent.merge(right);
            partials.add(i, parent);
        }
        LdaStatistics merged = partials.get(0);
        // then
        assertThat(merged.count()).isEqualTo(whole.count());
        for (String label : whole.labels()) {
            assertThat(merged.count(label)).isEqualTo(whole.count(label));
        }
        HeadArtifact a = whole.solve(0.2);
        HeadArtifact b = merged.solve(0.2);
        for (LdaHeadTest.Labeled e : data.subList(0, 50)) {
            float[] pa = a.probabilities(e.x());
            float[] pb = b.probabilities(e.x());
            for (String label : a.labels()) {
                assertThat(pb[b.labels().indexOf(label)]).isCloseTo(pa[a.labels().indexOf(label)], within(1e-4f));
            }
        }
    }
}
