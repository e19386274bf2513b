package io.headwater.tests;

import io.headwater.kafka.EmbeddedKafkaCluster;

/**
 * The broker-loss runs of {@link BrokerLossContract} on three KRaft nodes in child JVMs, killed with
 * SIGKILL: what {@code ./mvnw verify} runs everywhere, no Docker needed.
 */
class ClusterFailureIT extends BrokerLossContract {
    @Override
    protected BrokerCluster startCluster() {
        return BrokerCluster.of(EmbeddedKafkaCluster.start(3));
    }
}
