package io.headwater.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import io.headwater.kafka.UpdateSignature;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegistryConfigTest {

    @Test
    void shouldRefuseToStartWithAMalformedSigningKeyNamingTheKey() {
        // not base64
        assertThatThrownBy(() -> new RegistryConfig(Map.of(RegistryConfig.SIGNING_KEY, "not a key!")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("registry.signing.private.key is not a base64 PKCS#8 Ed25519 private key");
        // base64, but a public key where the private one belongs
        String publicKey = UpdateSignature.encode(UpdateSignature.generate().getPublic());
        assertThatThrownBy(() -> new RegistryConfig(Map.of(RegistryConfig.SIGNING_KEY, publicKey)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("registry.signing.private.key is not a base64 PKCS#8 Ed25519 private key")
                .hasMessageNotContaining(publicKey);
    }

    @Test
    void shouldRefuseAKeyIdThatCannotTravelInATrustedKeysList() {
        assertThatThrownBy(() -> new RegistryConfig(Map.of(RegistryConfig.SIGNING_KEY_ID, "a:b")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Invalid value a:b for configuration registry.signing.key.id")
                .hasMessageContaining("a key id is 1 to 64 letters, digits, '.', '_' or '-'");
        assertThat(new RegistryConfig(Map.of(RegistryConfig.SIGNING_KEY_ID, "reg-2026.1")).signingKeyId())
                .isEqualTo("reg-2026.1");
    }

    @Test
    void shouldCompareSecretsOfAnyLengthWithoutTellingHowMuchMatched() {
        assertThat(RegistryApi.sameSecret("Bearer t0ken", "Bearer t0ken")).isTrue();
        assertThat(RegistryApi.sameSecret("Bearer t0ke", "Bearer t0ken")).isFalse();
        assertThat(RegistryApi.sameSecret("", "Bearer t0ken")).isFalse();
        assertThat(RegistryApi.sameSecret("Bearer t0kenx", "Bearer t0ken")).isFalse();
    }
}
