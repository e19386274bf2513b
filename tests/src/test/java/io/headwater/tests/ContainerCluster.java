package io.headwater.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import io.headwater.core.FatalException;
import io.headwater.kafka.EmbeddedKafkaBroker;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Network;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Three nodes of the official {@code apache/kafka} image under Testcontainers' Kafka module, each
 * broker and controller voter, on one Docker network. Each node's client port is bound to a fixed
 * host port, so a node killed with {@code docker kill} (SIGKILL) and started again with
 * {@code docker start} keeps its address and, in the container's file system, its data. The brokers
 * take their replication settings from {@code docker-compose.yml}'s first Kafka node, so this run also
 * checks the compose file's settings on a real cluster.
 */
final class ContainerCluster implements BrokerCluster {
    /** The Kafka settings of compose that this cluster takes over (listeners and ids are its own). */
    private static final Pattern FROM_COMPOSE = Pattern.compile(
            "KAFKA_(.*REPLICATION_FACTOR|.*MIN_ISR|MIN_INSYNC_REPLICAS|.*NUM_PARTITIONS|MESSAGE_MAX_BYTES"
                    + "|AUTO_CREATE_TOPICS_ENABLE|GROUP_INITIAL_REBALANCE_DELAY_MS)");
    private static final Duration READY = Duration.ofMinutes(2);

    private final Network network;
    private final Map<Integer, Node> nodes = new LinkedHashMap<>();
    private final DockerImageName image;

    /** A node with its client port fixed on the host, so a restart keeps its advertised address. */
    private static final class Node extends KafkaContainer {
        final int id;

        Node(DockerImageName image, int id, int hostPort) {
            super(image);
            this.id = id;
            addFixedExposedPort(hostPort, 9092);
        }
    }

    private ContainerCluster(DockerImageName image, int count) {
        this.image = image;
        this.network = Network.newNetwork();
        String clusterId = Uuid.randomUuid().toString();
        String voters = java.util.stream.IntStream.rangeClosed(1, count).mapToObj(i -> i + "@kafka-" + i + ":9094")
                .collect(Collectors.joining(","));
        Map<String, String> composeSettings = composeKafkaSettings();
        for (int id = 1; id <= count; id++) {
            Node n = new Node(image, id, EmbeddedKafkaBroker.freePort());
            n.withNetwork(network).withNetworkAliases("kafka-" + id)
                    .withEnv("CLUSTER_ID", clusterId)
                    .withEnv("KAFKA_NODE_ID", Integer.toString(id))
                    .withEnv("KAFKA_CONTROLLER_QUORUM_VOTERS", voters)
                    .withEnv(composeSettings)
                    .withStartupTimeout(READY);
            nodes.put(id, n);
        }
    }

    /** Starts {@code count} nodes of {@code image}; all at once, since the quorum needs its voters. */
    static ContainerCluster start(DockerImageName image, int count) {
        ContainerCluster c = new ContainerCluster(image, count);
        try {
            c.nodes.values().parallelStream().forEach(Node::start);
            c.awaitBrokers(c.nodes.keySet());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** The replication and topic settings of compose's first Kafka service, as container environment. */
    static Map<String, String> composeKafkaSettings() {
        JsonNode env = DeployFiles.readYaml(DeployFiles.COMPOSE).path("services").path("kafka-1").path("environment");
        Map<String, String> out = new LinkedHashMap<>();
        env.properties().forEach(e -> {
            if (FROM_COMPOSE.matcher(e.getKey()).matches()) {
                out.put(e.getKey(), e.getValue().asText());
            }
        });
        if (out.isEmpty()) {
            throw new IllegalStateException("docker-compose.yml has no Kafka replication settings on kafka-1");
        }
        return out;
    }

    @Override
    public String bootstrapServers() {
        return nodes.values().stream().map(KafkaContainer::getBootstrapServers).collect(Collectors.joining(","));
    }

    @Override
    public List<Integer> nodeIds() {
        return List.copyOf(nodes.keySet());
    }

    @Override
    public void kill(int nodeId) {
        DockerClient docker = DockerClientFactory.instance().client();
        String id = node(nodeId).getContainerId();
        docker.killContainerCmd(id).withSignal("SIGKILL").exec();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getRunning())) {
            if (System.nanoTime() > deadline) {
                throw new FatalException("container of Kafka node " + nodeId + " still runs 30 s after SIGKILL");
            }
            sleep(100);
        }
    }

    @Override
    public void restart(int nodeId) {
        DockerClientFactory.instance().client().startContainerCmd(node(nodeId).getContainerId()).exec();
        awaitBrokers(Set.of(nodeId));
    }

    @Override
    public String describe() {
        return nodes.size() + " " + image.asCanonicalNameString() + " containers (broker + controller) under Testcontainers";
    }

    private void awaitBrokers(Set<Integer> ids) {
        long deadline = System.nanoTime() + READY.toNanos();
        Set<Integer> live = Set.of();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            while (System.nanoTime() < deadline) {
                try {
                    live = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).stream()
                            .map(org.apache.kafka.common.Node::id).collect(Collectors.toSet());
                    if (live.containsAll(ids)) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // not answering yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new FatalException("Interrupted while waiting for brokers " + ids, e);
                }
                sleep(200);
            }
        }
        throw new FatalException("Kafka containers " + ids + " not live within " + READY + " (live: " + live + ")");
    }

    private Node node(int id) {
        Node n = nodes.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no node " + id + " in " + nodes.keySet());
        }
        return n;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted", e);
        }
    }

    @Override
    public void close() {
        nodes.values().forEach(Node::stop);
        network.close();
    }
}
