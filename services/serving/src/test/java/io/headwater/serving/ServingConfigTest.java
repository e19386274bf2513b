package io.headwater.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import io.headwater.kafka.UpdateSignature;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServingConfigTest {
    static final String A = UpdateSignature.encode(UpdateSignature.generate().getPublic());
    static final String B = UpdateSignature.encode(UpdateSignature.generate().getPublic());

    @Test
    void shouldTrustSeveralKeysByTheirIds() {
        ServingConfig config = new ServingConfig(Map.of(ServingConfig.TRUSTED_KEYS, "reg-2025:" + A + ", reg-2026:" + B));
        assertThat(config.trustedKeys()).containsOnlyKeys("reg-2025", "reg-2026");
        assertThat(UpdateSignature.encode(config.trustedKeys().get("reg-2026"))).isEqualTo(B);
    }

    @Test
    void shouldRefuseAKeyIdListedTwiceWhichWouldLeaveOneKeyUnused() {
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.TRUSTED_KEYS, "registry:" + A + ",registry:" + B)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Invalid value serving.trusted.keys: key id 'registry' is listed twice; every signing key "
                        + "needs an id of its own (registry.signing.key.id)");
    }

    @Test
    void shouldNameTheEntryAndTheKeyIdOfAMalformedTrustedKey() {
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.TRUSTED_KEYS, A)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("Invalid value " + A.substring(0, 21) + "... for configuration serving.trusted.keys: "
                        + "expected keyId:base64");
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.TRUSTED_KEYS, "k1:bm90IGEga2V5")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("serving.trusted.keys (key id k1) is not a base64 X.509 Ed25519 public key");
    }

    @Test
    void shouldCapRequestBodiesAtOneMegabyteByDefault() {
        assertThat(new ServingConfig(Map.of()).requestMaxBytes()).isEqualTo(1024 * 1024);
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.REQUEST_MAX_BYTES, "10")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("serving.request.max.bytes");
    }
}
