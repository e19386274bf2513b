package io.headwater.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.headwater.core.BadRecordException;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelCandidate;
import java.io.IOException;
import java.util.Base64;

/**
 * Checks a proposed head before it may become a version: readable, a known format, an artifact
 * that decodes, finite weights, the backbone's dimension, labels that match the artifact's.
 */
final class CandidateValidator {
    private CandidateValidator() {
    }

    /** A valid candidate with its decoded artifact bytes. */
    record Valid(ModelCandidate candidate, byte[] artifact, HeadArtifact head) {
    }

    static Valid validate(String key, byte[] value) {
        if (value == null) {
            throw new BadRecordException("empty candidate");
        }
        ModelCandidate c;
        try {
            c = Json.MAPPER.readValue(value, ModelCandidate.class);
        } catch (JsonProcessingException e) {
            throw new BadRecordException("candidate is not readable JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadRecordException("candidate is not readable JSON: " + e.getMessage());
        }
        if (c.formatVersion() != ModelCandidate.FORMAT_VERSION) {
            throw new BadRecordException("unsupported candidate format version " + c.formatVersion());
        }
        if (c.task() == null || !c.task().equals(key)) {
            throw new BadRecordException("candidate task '" + c.task() + "' does not match record key '" + key + "'");
        }
        if (c.backbone() == null || c.backbone().sha256() == null || !c.backbone().sha256().matches("[0-9a-f]{64}")) {
            throw new BadRecordException("candidate has no valid backbone SHA-256");
        }
        if (c.metrics() == null || c.artifact() == null || c.labels() == null || c.headType() == null) {
            throw new BadRecordException("candidate lacks one of metrics, artifact, labels, headType");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(c.artifact());
        } catch (IllegalArgumentException e) {
            throw new BadRecordException("candidate artifact is not base64: " + e.getMessage());
        }
        HeadArtifact head = HeadArtifact.decode(bytes);
        if (head.inputDimension() != c.backbone().dimension()) {
            throw new BadRecordException("head takes " + head.inputDimension() + " inputs but backbone "
                    + c.backbone().id() + " gives " + c.backbone().dimension());
        }
        if (!head.labels().equals(c.labels())) {
            throw new BadRecordException("candidate labels " + c.labels() + " differ from the artifact's " + head.labels());
        }
        double acc = c.metrics().windowedAccuracy();
        if (!(acc >= 0 && acc <= 1) || c.metrics().examplesLearned() < 1) {
            throw new BadRecordException("candidate metrics out of range: accuracy " + acc + ", examples "
                    + c.metrics().examplesLearned());
        }
        return new Valid(c, bytes, head);
    }
}
