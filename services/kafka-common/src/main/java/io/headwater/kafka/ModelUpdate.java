package io.headwater.kafka;

import java.util.List;

/**
 * A published head version on {@code model-updates} ({@code schemas/model-update.schema.json}).
 *
 * <pre>{@code
 * ModelUpdate u = Json.MAPPER.readValue(record.value(), ModelUpdate.class);
 * HeadArtifact head = HeadArtifact.decode(Base64.getDecoder().decode(u.artifact().data()));
 * }</pre>
 *
 * @param formatVersion {@link #FORMAT_VERSION}; readers reject versions they do not know
 * @param task          the task
 * @param version       1, 2, 3, ... per task, without gaps
 * @param parentVersion the version this one replaces; 0 for the first
 * @param headType      e.g. {@code lda}
 * @param labels        output labels, in the artifact's order
 * @param backbone      the backbone the head expects; consumers refuse a different one
 * @param artifact      the head itself, with its SHA-256
 * @param metrics       examples learned and windowed accuracy
 * @param provenance    where it came from
 * @param createdAt     ISO-8601 instant of publication
 * @param origin        {@link #PROMOTED} (a trainer's candidate passed the gate), {@link #ROLLBACK} or
 *                      {@link #PIN} (an operator republished {@code sourceVersion}'s head)
 * @param sourceVersion for a rollback or pin, the version whose head this one republishes; else 0
 * @param signature     Ed25519 signature of {@link UpdateSignature#payload(ModelUpdate)}, or null when
 *                      the registry has no signing key
 */
public record ModelUpdate(int formatVersion, String task, long version, long parentVersion, String headType,
                          List<String> labels, BackboneRef backbone, Artifact artifact, ModelMetrics metrics,
                          Provenance provenance, String createdAt, String origin, long sourceVersion,
                          Signature signature) {
    public static final int FORMAT_VERSION = 1;
    public static final String PROMOTED = "promoted";
    public static final String ROLLBACK = "rollback";
    public static final String PIN = "pin";

    /** This update with another signature. */
    public ModelUpdate withSignature(Signature s) {
        return new ModelUpdate(formatVersion, task, version, parentVersion, headType, labels, backbone, artifact,
                metrics, provenance, createdAt, origin, sourceVersion, s);
    }

    /** This update's head republished as {@code newVersion} after {@code parent}, with another origin. */
    public ModelUpdate republish(long newVersion, long parent, String newOrigin, String at) {
        return new ModelUpdate(formatVersion, task, newVersion, parent, headType, labels, backbone, artifact, metrics,
                provenance, at, newOrigin, version, null);
    }

    /**
     * @param algorithm {@code Ed25519}
     * @param keyId     which of the consumer's trusted keys verifies it
     * @param value     base64 of the signature bytes
     */
    public record Signature(String algorithm, String keyId, String value) {
    }

    /**
     * The head's bytes.
     *
     * @param format {@code headwater.dense.v1}
     * @param sha256 lower-case hex SHA-256 of the decoded bytes
     * @param bytes  length of the decoded bytes
     * @param data   base64 (RFC 4648) of the bytes
     */
    public record Artifact(String format, String sha256, int bytes, String data) {
    }

    /**
     * @param featureOffsets     last features offset learned from, per partition
     * @param trainer            application id of the trainer that proposed it
     * @param candidateCreatedAt when the trainer proposed it
     * @param configDigest       SHA-256 of the head settings the trainer used
     */
    public record Provenance(java.util.Map<String, Long> featureOffsets, String trainer, String candidateCreatedAt,
                             String configDigest) {
    }
}
