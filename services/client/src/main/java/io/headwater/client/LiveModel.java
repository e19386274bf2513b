package io.headwater.client;

import io.headwater.core.HeadArtifact;
import io.headwater.kafka.ModelUpdate;

/**
 * One verified head version, immutable: what a prediction uses from start to end.
 *
 * @param task      the task
 * @param version   the registry's version number
 * @param head      the verified head
 * @param update    the update it came from (metrics, provenance)
 * @param appliedAt when this client started serving it (epoch ms)
 */
public record LiveModel(String task, long version, HeadArtifact head, ModelUpdate update, long appliedAt) {
}
