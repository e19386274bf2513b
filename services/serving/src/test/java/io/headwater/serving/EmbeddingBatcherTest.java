package io.headwater.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.BackboneSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class EmbeddingBatcherTest {

    @Test
    void shouldGiveEachConcurrentRequestItsOwnRowsFromSharedBackboneCalls() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        List<List<String>> requests = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            requests.add(i % 3 == 0 ? List.of("request " + i + " says hello", "and a second text " + i)
                    : List.of("request number " + i + " asks about the weather"));
        }
        try (Backbone backbone = Backbone.load(BackboneSpec.defaults());
             EmbeddingBatcher batcher = new EmbeddingBatcher(backbone, 64, 20, meters)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<float[][]>> answers = new ArrayList<>();
            for (List<String> r : requests) {
                answers.add(pool.submit(() -> batcher.embed(r)));
            }
            for (int i = 0; i < requests.size(); i++) {
                assertThat(answers.get(i).get()).as("request " + i)
                        .isDeepEqualTo(backbone.embed(requests.get(i)));
            }
            pool.shutdown();
        }
        var batches = meters.get("headwater.serving.batch.size").summary();
        assertThat(batches.totalAmount()).isEqualTo(32);
        assertThat(batches.count()).as("backbone calls").isLessThan(24);
    }
}
