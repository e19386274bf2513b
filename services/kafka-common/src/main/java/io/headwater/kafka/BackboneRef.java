package io.headwater.kafka;

/**
 * Which backbone a head reads embeddings from.
 *
 * @param id        stable id, e.g. {@code all-minilm-l6-v2-q}
 * @param sha256    lower-case hex SHA-256 of the model file
 * @param dimension embedding size
 */
public record BackboneRef(String id, String sha256, int dimension) {
}
