package io.headwater.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ModelClientTest {
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final ModelClient client = ModelClient.builder(Map.of(), Topics.withPrefix("t."))
            .expectedBackbone(Updates.BACKBONE).meterRegistry(meters).build();

    @Test
    void shouldServeTheNewestVerifiedVersionAndStampPredictions() {
        assertThat(client.predict("a", new float[4])).isEmpty();
        assertThat(client.offer(Updates.update("a", 1, Updates.BACKBONE))).isTrue();
        assertThat(client.offer(Updates.update("a", 3, Updates.BACKBONE))).isTrue();
        assertThat(client.offer(Updates.update("a", 2, Updates.BACKBONE))).as("older than current").isFalse();
        Prediction p = client.predict("a", new float[4]).orElseThrow();
        assertThat(p.version()).isEqualTo(3);
        assertThat(p.label()).isEqualTo("yes");
        assertThat((double) p.probabilities()[0]).isCloseTo(0.75, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(meters.get("headwater.client.swaps").counter().count()).isEqualTo(2);
    }

    @Test
    void shouldRefuseTamperedArtifactsAndOtherBackbonesAndCountThem() {
        client.offer(Updates.update("a", 1, Updates.BACKBONE));
        assertThat(client.offer(Updates.tampered(Updates.update("a", 2, Updates.BACKBONE)))).isFalse();
        BackboneRef other = new BackboneRef("other", "b".repeat(64), 4);
        assertThat(client.offer(Updates.update("a", 3, other))).isFalse();
        assertThat(client.current("a").orElseThrow().version()).isEqualTo(1);
        assertThat(meters.get("headwater.client.refused").tag("reason", "checksum").counter().count()).isEqualTo(1);
        assertThat(meters.get("headwater.client.refused").tag("reason", "backbone").counter().count()).isEqualTo(1);
    }

    @Test
    void shouldRequireAValidSignatureByATrustedKeyWhenGivenKeys() {
        java.security.KeyPair keys = io.headwater.kafka.UpdateSignature.generate();
        UpdateVerifier verifier = new UpdateVerifier(Updates.BACKBONE, Map.of("k1", keys.getPublic()));
        ModelUpdate u = Updates.update("a", 2, Updates.BACKBONE);
        ModelUpdate signed = io.headwater.kafka.UpdateSignature.sign(u, "k1", keys.getPrivate());
        assertThat(verifier.verify(signed).labels()).isEqualTo(u.labels());
        assertThatThrownBy(() -> verifier.verify(u)).isInstanceOf(RefusedUpdateException.class)
                .hasMessageContaining("is not signed");
        ModelUpdate otherKey = io.headwater.kafka.UpdateSignature.sign(u, "k2",
                io.headwater.kafka.UpdateSignature.generate().getPrivate());
        assertThatThrownBy(() -> verifier.verify(otherKey)).hasMessageContaining("does not trust");
        // a valid signature moved onto another version does not verify
        ModelUpdate moved = Updates.update("a", 3, Updates.BACKBONE).withSignature(signed.signature());
        assertThatThrownBy(() -> verifier.verify(moved)).hasMessageContaining("does not verify");
        ModelClient strict = ModelClient.builder(Map.of(), io.headwater.kafka.Topics.withPrefix("t."))
                .expectedBackbone(Updates.BACKBONE).trustedKeys(Map.of("k1", keys.getPublic())).meterRegistry(meters)
                .build();
        assertThat(strict.offer(moved)).isFalse();
        assertThat(strict.offer(signed)).isTrue();
        assertThat(meters.get("headwater.client.refused").tag("reason", "signature").counter().count()).isEqualTo(1);
    }

    @Test
    void shouldNameWhatIsWrongWithARefusedUpdate() {
        UpdateVerifier verifier = new UpdateVerifier(Updates.BACKBONE);
        assertThatThrownBy(() -> verifier.verify(Updates.tampered(Updates.update("a", 2, Updates.BACKBONE))))
                .isInstanceOf(RefusedUpdateException.class).hasMessageContaining("artifact hashes to");
        ModelUpdate u = Updates.update("a", 2, Updates.BACKBONE);
        ModelUpdate future = new ModelUpdate(7, u.task(), u.version(), u.parentVersion(), u.headType(), u.labels(),
                u.backbone(), u.artifact(), u.metrics(), u.provenance(), u.createdAt(), u.origin(), 0, null);
        assertThatThrownBy(() -> verifier.verify(future))
                .hasMessage("model update format version 7 of task a is not one this client reads (1)");
        ModelUpdate wide = Updates.update("a", 2, new BackboneRef("test-backbone", "a".repeat(64), 9));
        assertThatThrownBy(() -> verifier.verify(wide)).hasMessageContaining("head takes 9 inputs");
    }

    /**
     * Predictions on many threads while versions are swapped: each must come entirely from one
     * version (its probability encodes the version) and carry that version.
     */
    @Test
    void shouldNeverMixVersionsWhilePredictingDuringSwaps() throws Exception {
        client.offer(Updates.update("a", 1, Updates.BACKBONE));
        AtomicBoolean swapping = new AtomicBoolean(true);
        ConcurrentLinkedQueue<String> inconsistent = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        CountDownLatch started = new CountDownLatch(6);
        List<Future<Integer>> workers = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            workers.add(pool.submit(() -> {
                started.countDown();
                int n = 0;
                long lastVersion = 0;
                while (swapping.get() || n < 1000) {
                    Prediction p = client.predict("a", new float[] {1, 2, 3, 4}).orElseThrow();
                    long impliedVersion = Math.round(p.probabilities()[0] / p.probabilities()[1]);
                    if (impliedVersion != p.version() || p.version() < lastVersion) {
                        inconsistent.add("version " + p.version() + " gave probabilities of version " + impliedVersion);
                    }
                    lastVersion = p.version();
                    n++;
                }
                return n;
            }));
        }
        started.await();
        for (long v = 2; v <= 2_000; v++) {
            client.offer(Updates.update("a", v, Updates.BACKBONE));
        }
        swapping.set(false);
        int predictions = 0;
        for (Future<Integer> w : workers) {
            predictions += w.get(1, TimeUnit.MINUTES);
        }
        pool.shutdown();
        assertThat(inconsistent).isEmpty();
        assertThat(predictions).isGreaterThanOrEqualTo(6_000);
        assertThat(client.current("a").orElseThrow().version()).isEqualTo(2_000);
    }
}
