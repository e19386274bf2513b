package io.headwater.client;

import io.headwater.core.BadRecordException;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.UpdateSignature;
import java.security.PublicKey;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;

/**
 * Checks a model update before it may serve: a format version this build reads, an artifact that
 * hashes to the SHA-256 the update claims and decodes, labels and dimension that agree, the
 * backbone this client embeds with and, when the client trusts signing keys, an Ed25519 signature
 * by one of them ({@link UpdateSignature}).
 *
 * <pre>{@code
 * HeadArtifact head = new UpdateVerifier(backboneRef, Map.of("registry", publicKey)).verify(update);
 * }</pre>
 */
public final class UpdateVerifier {
    private final BackboneRef expected;
    private final Map<String, PublicKey> trusted;

    /** @param expected the backbone this client embeds with (id, SHA-256, dimension) */
    public UpdateVerifier(BackboneRef expected) {
        this(expected, Map.of());
    }

    /**
     * @param expected the backbone this client embeds with (id, SHA-256, dimension)
     * @param trusted  public keys by key id; when not empty, every update must be signed by one of them
     */
    public UpdateVerifier(BackboneRef expected, Map<String, PublicKey> trusted) {
        this.expected = Objects.requireNonNull(expected, "expected cannot be null");
        this.trusted = Map.copyOf(trusted);
    }

    /** The update's head, or a {@link RefusedUpdateException} saying why it is refused. */
    public HeadArtifact verify(ModelUpdate u) {
        if (u.formatVersion() != ModelUpdate.FORMAT_VERSION) {
            throw new RefusedUpdateException("format", "model update format version " + u.formatVersion()
                    + " of task " + u.task() + " is not one this client reads (" + ModelUpdate.FORMAT_VERSION + ")");
        }
        if (u.artifact() == null || !HeadArtifact.FORMAT.equals(u.artifact().format())) {
            throw new RefusedUpdateException("format", "task " + u.task() + " version " + u.version()
                    + ": unknown artifact format " + (u.artifact() == null ? "(none)" : u.artifact().format()));
        }
        if (u.backbone() == null || !expected.sha256().equals(u.backbone().sha256())) {
            throw new RefusedUpdateException("backbone", "task " + u.task() + " version " + u.version()
                    + " was trained on backbone " + (u.backbone() == null ? "(none)" : u.backbone().id() + " "
                    + u.backbone().sha256()) + ", this client embeds with " + expected.id() + " " + expected.sha256());
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(u.artifact().data());
        } catch (IllegalArgumentException e) {
            throw new RefusedUpdateException("artifact", "task " + u.task() + " version " + u.version()
                    + ": artifact is not base64");
        }
        String sha = HeadArtifact.sha256(bytes);
        if (!sha.equals(u.artifact().sha256())) {
            throw new RefusedUpdateException("checksum", "task " + u.task() + " version " + u.version()
                    + ": artifact hashes to " + sha + ", the update says " + u.artifact().sha256());
        }
        if (!trusted.isEmpty()) {
            verifySignature(u);
        }
        HeadArtifact head;
        try {
            head = HeadArtifact.decode(bytes);
        } catch (BadRecordException e) {
            throw new RefusedUpdateException("artifact", "task " + u.task() + " version " + u.version() + ": "
                    + e.getMessage());
        }
        if (head.inputDimension() != expected.dimension() || !head.labels().equals(u.labels())) {
            throw new RefusedUpdateException("artifact", "task " + u.task() + " version " + u.version()
                    + ": head takes " + head.inputDimension() + " inputs with labels " + head.labels()
                    + ", expected " + expected.dimension() + " inputs with labels " + u.labels());
        }
        return head;
    }

    private void verifySignature(ModelUpdate u) {
        ModelUpdate.Signature sig = u.signature();
        String what = "task " + u.task() + " version " + u.version();
        if (sig == null || sig.value() == null || sig.value().isEmpty()) {
            throw new RefusedUpdateException("unsigned", what + " is not signed, and this client requires a signature by "
                    + trusted.keySet());
        }
        PublicKey key = sig.keyId() == null ? null : trusted.get(sig.keyId());
        if (key == null) {
            throw new RefusedUpdateException("untrusted_key", what + " is signed with key '" + sig.keyId()
                    + "', which this client does not trust (trusted: " + trusted.keySet() + ")");
        }
        if (!UpdateSignature.verifies(u, key)) {
            throw new RefusedUpdateException("signature", what + ": the " + sig.algorithm() + " signature by key '"
                    + sig.keyId() + "' does not verify");
        }
    }
}
