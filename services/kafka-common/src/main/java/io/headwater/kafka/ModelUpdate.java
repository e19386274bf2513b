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
 */
public record ModelUpdate(int formatVersion, String task, long version, long parentVersion, String headType,
                          List<String> labels, BackboneRef backbone, Artifact artifact, ModelMetrics metrics,
                          Provenance provenance, String createdAt) {
    public static final int FORMAT_VERSION = 1;

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
     */
    public record Provenance(java.util.Map<String, Long> featureOffsets, String trainer, String candidateCreatedAt) {
    }
}
