package io.headwater.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.kafka.UpdateSignature;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a client that trusts signing keys refuses, and why, counted by reason: unsigned updates,
 * updates signed under a key id it does not trust, signatures that do not verify; and a key
 * rotation, with the old and the new key trusted side by side.
 */
class SignedUpdatesTest {
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final KeyPair old = UpdateSignature.generate();
    final KeyPair next = UpdateSignature.generate();

    ModelClient trusting(Map<String, PublicKey> keys) {
        return ModelClient.builder(Map.of(), Topics.withPrefix("t.")).expectedBackbone(Updates.BACKBONE)
                .trustedKeys(keys).meterRegistry(meters).build();
    }

    double refused(String reason) {
        return meters.get("headwater.client.refused").tag("reason", reason).counter().count();
    }

    static ModelUpdate signed(long version, String keyId, KeyPair keys) {
        return UpdateSignature.sign(Updates.update("a", version, Updates.BACKBONE), keyId, keys.getPrivate());
    }

    @Test
    void shouldRefuseUnsignedUpdatesAndCountThemAsUnsigned() {
        // given
        ModelClient client = trusting(Map.of("k-old", old.getPublic()));
        ModelUpdate none = Updates.update("a", 1, Updates.BACKBONE);
        ModelUpdate empty = none.withSignature(new ModelUpdate.Signature(UpdateSignature.ALGORITHM, "k-old", ""));
        // when / then
        assertThat(client.offer(none)).isFalse();
        assertThat(client.offer(empty)).isFalse();
        assertThat(refused("unsigned")).isEqualTo(2);
        assertThat(client.current("a")).isEmpty();
    }

    @Test
    void shouldRefuseUpdatesSignedUnderAKeyIdItDoesNotTrust() {
        // given: a signature by a key the client has never heard of, and one without a key id
        ModelClient client = trusting(Map.of("k-old", old.getPublic()));
        ModelUpdate foreign = signed(1, "k-foreign", UpdateSignature.generate());
        ModelUpdate noId = foreign.withSignature(new ModelUpdate.Signature(UpdateSignature.ALGORITHM, null,
                foreign.signature().value()));
        // when / then
        assertThat(client.offer(foreign)).isFalse();
        assertThat(client.offer(noId)).isFalse();
        assertThat(refused("untrusted_key")).isEqualTo(2);
        assertThat(new UpdateVerifier(Updates.BACKBONE, Map.of("k-old", old.getPublic())))
                .satisfies(v -> org.assertj.core.api.Assertions.assertThatThrownBy(() -> v.verify(foreign))
                        .isInstanceOf(RefusedUpdateException.class)
                        .hasMessage("task a version 1 is signed with key 'k-foreign', which this client does not trust "
                                + "(trusted: [k-old])"));
    }

    @Test
    void shouldRefuseAForeignSignatureThatClaimsATrustedKeyId() {
        // given: a forger signs with a key of its own and writes the trusted key's id beside it
        ModelClient client = trusting(Map.of("k-old", old.getPublic()));
        ModelUpdate forged = signed(1, "k-old", UpdateSignature.generate());
        ModelUpdate otherAlgorithm = signed(2, "k-old", old).withSignature(new ModelUpdate.Signature("none", "k-old",
                signed(2, "k-old", old).signature().value()));
        // when / then
        assertThat(client.offer(forged)).isFalse();
        assertThat(client.offer(otherAlgorithm)).isFalse();
        assertThat(refused("signature")).isEqualTo(2);
        assertThat(client.offer(signed(3, "k-old", old))).isTrue();
    }

    @Test
    void shouldServeUpdatesOfEitherKeyDuringARotationAndOnlyTheNewKeysAfterIt() {
        // given: before the rotation the client trusts the old key; during it, both
        ModelClient before = trusting(Map.of("k-old", old.getPublic()));
        ModelClient during = trusting(Map.of("k-old", old.getPublic(), "k-new", next.getPublic()));
        ModelClient after = trusting(Map.of("k-new", next.getPublic()));
        ModelUpdate v1 = signed(1, "k-old", old);
        ModelUpdate v2 = signed(2, "k-new", next);
        // when: the registry signs v1 with the old key, then switches and signs v2 with the new one
        // then: a client that trusts both serves both, without a gap
        assertThat(during.offer(v1)).isTrue();
        assertThat(during.offer(v2)).isTrue();
        assertThat(during.current("a").orElseThrow().version()).isEqualTo(2);
        // and a client still on the old key alone cannot follow the switch: the step it skipped
        assertThat(before.offer(v1)).isTrue();
        assertThat(before.offer(v2)).isFalse();
        assertThat(refused("untrusted_key")).isEqualTo(1);
        // and after the old key is dropped, its updates are refused (a stale instance, a stolen key)
        assertThat(after.offer(v1)).isFalse();
        assertThat(after.offer(v2)).isTrue();
        assertThat(after.offer(signed(3, "k-old", old))).isFalse();
        assertThat(refused("untrusted_key")).isEqualTo(3);
        assertThat(after.current("a").orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void shouldTakeUnsignedUpdatesWhenItTrustsNoKey() {
        ModelClient open = ModelClient.builder(Map.of(), Topics.withPrefix("t.")).expectedBackbone(Updates.BACKBONE)
                .meterRegistry(meters).build();
        assertThat(open.offer(Updates.update("a", 1, Updates.BACKBONE))).isTrue();
        assertThat(RefusedUpdateException.REASONS).contains("unsigned", "untrusted_key", "signature");
    }
}
