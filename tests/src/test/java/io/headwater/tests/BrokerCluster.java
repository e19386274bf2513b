package io.headwater.tests;

import io.headwater.kafka.EmbeddedKafkaCluster;
import java.util.List;

/**
 * A Kafka cluster a test can break: a node killed hard and restarted with its data. The broker-loss
 * tests run the same assertions on every implementation: {@link EmbeddedKafkaCluster} (child JVMs)
 * and the official {@code apache/kafka} image under Testcontainers.
 */
interface BrokerCluster extends AutoCloseable {

    /** Every node's client listener, comma-separated. */
    String bootstrapServers();

    /** Ids of the nodes, each a broker and a controller voter. */
    List<Integer> nodeIds();

    /** Kills the node at once (SIGKILL): no shutdown, no flush. */
    void kill(int nodeId);

    /** Starts a killed node again with its data; returns once it is a live broker. */
    void restart(int nodeId);

    /** What the nodes are, for reports. */
    String describe();

    @Override
    void close();

    /** The child-JVM cluster of kafka-common. */
    static BrokerCluster of(EmbeddedKafkaCluster cluster) {
        return new BrokerCluster() {
            @Override
            public String bootstrapServers() {
                return cluster.bootstrapServers();
            }

            @Override
            public List<Integer> nodeIds() {
                return cluster.nodeIds();
            }

            @Override
            public void kill(int nodeId) {
                cluster.kill(nodeId);
            }

            @Override
            public void restart(int nodeId) {
                cluster.restart(nodeId);
            }

            @Override
            public String describe() {
                return cluster.nodeIds().size() + " KRaft nodes (broker + controller), one child JVM each";
            }

            @Override
            public void close() {
                cluster.close();
            }
        };
    }
}
