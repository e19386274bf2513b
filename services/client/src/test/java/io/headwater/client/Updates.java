package io.headwater.client;

import io.headwater.core.DenseLayer;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.ModelMetrics;
import io.headwater.kafka.ModelUpdate;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Model updates for tests: version v of a two-class head whose first-class probability is v / (v + 1). */
public final class Updates {
    public static final BackboneRef BACKBONE = new BackboneRef("test-backbone", "a".repeat(64), 4);

    private Updates() {
    }

    public static HeadArtifact head(long version, int dimension) {
        float[] bias = {(float) Math.log(version), 0f};
        return new HeadArtifact(List.of("yes", "no"), List.of(new DenseLayer(dimension, 2,
                new float[2 * dimension], bias, DenseLayer.Activation.SOFTMAX)));
    }

    public static ModelUpdate update(String task, long version, BackboneRef backbone) {
        byte[] bytes = head(version, backbone.dimension()).encode();
        return new ModelUpdate(ModelUpdate.FORMAT_VERSION, task, version, version - 1, "lda", List.of("yes", "no"),
                backbone, new ModelUpdate.Artifact(HeadArtifact.FORMAT, HeadArtifact.sha256(bytes), bytes.length,
                        Base64.getEncoder().encodeToString(bytes)),
                ModelMetrics.of(version * 10, 0.9, 500, 500),
                new ModelUpdate.Provenance(Map.of("0", version), "test", Instant.now().toString(), "digest"),
                Instant.now().toString(), ModelUpdate.PROMOTED, 0, null);
    }

    /** The same update with one byte of its artifact changed and the checksum left as it was. */
    public static ModelUpdate tampered(ModelUpdate u) {
        byte[] bytes = Base64.getDecoder().decode(u.artifact().data());
        bytes[bytes.length - 1] ^= 0x01;
        return new ModelUpdate(u.formatVersion(), u.task(), u.version(), u.parentVersion(), u.headType(), u.labels(),
                u.backbone(), new ModelUpdate.Artifact(u.artifact().format(), u.artifact().sha256(), bytes.length,
                        Base64.getEncoder().encodeToString(bytes)), u.metrics(), u.provenance(), u.createdAt(),
                u.origin(), u.sourceVersion(), u.signature());
    }
}
