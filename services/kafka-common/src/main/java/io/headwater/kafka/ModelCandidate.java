package io.headwater.kafka;

import java.util.List;
import java.util.Map;

/**
 * A head version proposed by the trainer ({@code schemas/model-candidate.schema.json}).
 *
 * @param formatVersion  {@link #FORMAT_VERSION}
 * @param task           the task
 * @param headType       e.g. {@code lda}
 * @param labels         output labels, in the artifact's order
 * @param backbone       the backbone whose embeddings the head reads
 * @param artifact       base64 of the {@code headwater.dense.v1} artifact
 * @param metrics        what the head has learned and how well it predicted
 * @param featureOffsets last offset learned from, per features partition ({@code "<partition>"})
 * @param trainer        the trainer's application id
 * @param createdAt      ISO-8601 instant
 * @param oldestExampleAt ISO-8601 instant when the trainer learned the first example this candidate
 *                       has and the previous candidate of the task had not (for the example-to-version time)
 * @param configDigest   SHA-256 of the head settings
 */
public record ModelCandidate(int formatVersion, String task, String headType, List<String> labels,
                             BackboneRef backbone, String artifact, ModelMetrics metrics,
                             Map<String, Long> featureOffsets, String trainer, String createdAt,
                             String oldestExampleAt, String configDigest) {
    public static final int FORMAT_VERSION = 1;
}
