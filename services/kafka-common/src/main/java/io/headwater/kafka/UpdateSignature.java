package io.headwater.kafka;

import io.headwater.core.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Ed25519 signatures of model updates, with the JDK's own provider. What is signed is a few lines
 * of UTF-8 text that any language can rebuild from the update's JSON:
 *
 * <pre>
 * headwater.model-update.v1
 * {task}
 * {version}
 * {parentVersion}
 * {headType}
 * {artifact.sha256}
 * {backbone.sha256}
 * </pre>
 *
 * The artifact's SHA-256 covers its weights and labels, so nothing that changes a prediction is
 * left unsigned. Keys travel as base64: private keys PKCS#8, public keys X.509 (what
 * {@code headwater keygen} prints).
 *
 * <pre>{@code
 * ModelUpdate signed = UpdateSignature.sign(update, "registry-1", privateKey);
 * boolean ok = UpdateSignature.verifies(signed, publicKey);
 * }</pre>
 */
public final class UpdateSignature {
    public static final String ALGORITHM = "Ed25519";
    /** What a key id may be: it travels in every signature and in {@code keyId:base64} lists. */
    public static final String KEY_ID_PATTERN = "[A-Za-z0-9._-]{1,64}";

    private UpdateSignature() {
    }

    /** The exact bytes that are signed. */
    public static byte[] payload(ModelUpdate u) {
        String s = "headwater.model-update.v1\n" + u.task() + "\n" + u.version() + "\n" + u.parentVersion() + "\n"
                + u.headType() + "\n" + u.artifact().sha256() + "\n" + u.backbone().sha256() + "\n";
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static ModelUpdate sign(ModelUpdate u, String keyId, PrivateKey key) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(payload(u));
            return u.withSignature(new ModelUpdate.Signature(ALGORITHM, keyId,
                    Base64.getEncoder().encodeToString(s.sign())));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign model update with key " + keyId, e);
        }
    }

    /** True when the update carries an Ed25519 signature that {@code key} verifies. */
    public static boolean verifies(ModelUpdate u, PublicKey key) {
        ModelUpdate.Signature sig = u.signature();
        if (sig == null || !ALGORITHM.equals(sig.algorithm()) || sig.value() == null) {
            return false;
        }
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(key);
            s.update(payload(u));
            return s.verify(Base64.getDecoder().decode(sig.value()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** A new key pair. */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
        }
    }

    /** Reads a base64 PKCS#8 private key; {@code key} names the config key in the error. */
    public static PrivateKey privateKey(String configKey, String base64) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(
                    Base64.getDecoder().decode(base64.trim())));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new ConfigException(configKey + " is not a base64 PKCS#8 " + ALGORITHM + " private key: "
                    + e.getMessage(), e);
        }
    }

    /** Reads a base64 X.509 public key; {@code key} names the config key in the error. */
    public static PublicKey publicKey(String configKey, String base64) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(
                    Base64.getDecoder().decode(base64.trim())));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new ConfigException(configKey + " is not a base64 X.509 " + ALGORITHM + " public key: "
                    + e.getMessage(), e);
        }
    }

    public static String encode(java.security.Key key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }
}
