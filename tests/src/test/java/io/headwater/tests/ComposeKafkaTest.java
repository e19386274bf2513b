package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.TopicSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml runs Kafka as the cluster tests prove it works ({@link ClusterFailureIT}): three
 * KRaft nodes, each broker and controller voter of one quorum, the internal topics and Headwater's
 * topics replicated three times with two in sync, and listeners that the services and host clients
 * can reach. Checked on the file as written and, where docker-compose is installed, on the
 * configuration docker-compose itself resolves from it. {@code KafkaContainersIT} then runs the
 * broker-loss tests on brokers with these settings.
 */
class ComposeKafkaTest {
    private static final Pattern LISTENER = Pattern.compile("^([A-Z_]+)://([^:]*):(\\d+)$");

    @Test
    void shouldRunThreeReplicatedKafkaNodesAsTheClusterTestsDoWhenReadAsWritten() throws IOException {
        checkKafka(DeployFiles.readYaml(DeployFiles.COMPOSE).path("services"));
    }

    @Test
    void shouldRunThreeReplicatedKafkaNodesAsTheClusterTestsDoWhenResolvedByDockerCompose() throws IOException {
        var compose = DeployFiles.tool("docker-compose");
        org.junit.jupiter.api.Assumptions.assumeTrue(compose.isPresent(),
                "docker-compose is not installed (Debian package docker-compose); check skipped");
        DeployFiles.Run r = DeployFiles.run(DeployFiles.ROOT, compose.get().toString(), "-f",
                DeployFiles.COMPOSE.toString(), "config");
        assertThat(r.exitCode()).as(r.output()).isZero();
        checkKafka(DeployFiles.YAML.readTree(r.output()).path("services"));
    }

    @Test
    void shouldPublishEveryNodesHostListenerOnLoopbackOnly() {
        JsonNode services = DeployFiles.readYaml(DeployFiles.COMPOSE).path("services");
        Set<String> hostPorts = new HashSet<>();
        for (var e : kafkaNodes(services).entrySet()) {
            Map<String, String[]> advertised = listeners(env(e.getValue(), "KAFKA_ADVERTISED_LISTENERS"));
            String[] host = advertised.get("HOST");
            assertThat(host).as(e.getKey() + " advertises a HOST listener for clients on the host").isNotNull();
            assertThat(host[0]).isEqualTo("localhost");
            assertThat(hostPorts.add(host[1])).as(e.getKey() + " host port is its own").isTrue();
            List<String> ports = new ArrayList<>();
            e.getValue().path("ports").forEach(p -> ports.add(p.asText()));
            assertThat(ports).as(e.getKey() + " publishes its HOST listener on 127.0.0.1")
                    .containsExactly("127.0.0.1:" + host[1] + ":" + host[1]);
        }
    }

    /** Every check of the Kafka services and of what the Headwater services are told about them. */
    private static void checkKafka(JsonNode services) throws IOException {
        Map<String, JsonNode> nodes = kafkaNodes(services);
        assertThat(nodes).as("Kafka services kafka-1..n").hasSize(3);
        Map<String, String> voters = new TreeMap<>();
        Set<String> clusterIds = new HashSet<>();
        Set<String> votersSeen = new HashSet<>();
        List<String> internal = new ArrayList<>();
        for (var e : nodes.entrySet()) {
            String name = e.getKey();
            JsonNode node = e.getValue();
            // the official image, at the version of the Kafka clients Headwater is built with
            assertThat(node.path("image").asText()).as(name + " image").isEqualTo("apache/kafka:" + AppInfoParser.getVersion());
            assertThat(env(node, "KAFKA_PROCESS_ROLES")).as(name + " roles").isEqualTo("broker,controller");
            String id = env(node, "KAFKA_NODE_ID");
            assertThat(name).as("service name of node " + id).isEqualTo("kafka-" + id);
            clusterIds.add(env(node, "CLUSTER_ID"));
            votersSeen.add(env(node, "KAFKA_CONTROLLER_QUORUM_VOTERS"));
            // listeners: every one mapped to a protocol, advertised on the port it listens on
            Map<String, String[]> listening = listeners(env(node, "KAFKA_LISTENERS"));
            Map<String, String[]> advertised = listeners(env(node, "KAFKA_ADVERTISED_LISTENERS"));
            Map<String, String> protocols = new HashMap<>();
            for (String m : env(node, "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP").split(",")) {
                protocols.put(m.substring(0, m.indexOf(':')), m.substring(m.indexOf(':') + 1));
            }
            assertThat(protocols.keySet()).as(name + " listener protocols").containsAll(listening.keySet());
            advertised.forEach((l, hostPort) -> assertThat(listening.get(l)).as(name + " listens on advertised " + l)
                    .isNotNull().satisfies(hp -> assertThat(hp[1]).isEqualTo(hostPort[1])));
            String controller = env(node, "KAFKA_CONTROLLER_LISTENER_NAMES");
            assertThat(listening).as(name + " controller listener").containsKey(controller);
            assertThat(advertised).as(name + " does not advertise its controller listener").doesNotContainKey(controller);
            voters.put(id, id + "@" + node.path("hostname").asText(name) + ":" + listening.get(controller)[1]);
            String interBroker = env(node, "KAFKA_INTER_BROKER_LISTENER_NAME");
            assertThat(advertised.get(interBroker)).as(name + " inter-broker listener").isNotNull();
            assertThat(advertised.get(interBroker)[0]).as(name + " is reached by its service name").isEqualTo(name);
            internal.add(name + ":" + advertised.get(interBroker)[1]);
            // replication: what the embedded cluster runs, and Headwater's production topic settings
            EmbeddedKafkaBroker.replicationDefaults(nodes.size()).forEach((k, v) ->
                    assertThat(env(node, "KAFKA_" + k.toUpperCase(java.util.Locale.ROOT).replace('.', '_')))
                            .as(name + " " + k).isEqualTo(v));
            assertThat(env(node, "KAFKA_DEFAULT_REPLICATION_FACTOR")).as(name + " default.replication.factor")
                    .isEqualTo(Short.toString(TopicSettings.PRODUCTION_REPLICATION_FACTOR));
            assertThat(env(node, "KAFKA_MIN_INSYNC_REPLICAS")).as(name + " min.insync.replicas")
                    .isEqualTo(Integer.toString(TopicSettings.PRODUCTION_MIN_INSYNC_REPLICAS));
            assertThat(env(node, "KAFKA_AUTO_CREATE_TOPICS_ENABLE")).as(name + " auto-creates no topic").isEqualTo("false");
        }
        assertThat(clusterIds).as("one cluster id").hasSize(1);
        assertThat(votersSeen).as("every node the same quorum, of every node's controller listener")
                .containsExactly(String.join(",", voters.values()));

        // the services: every broker to bootstrap from, topics created with three replicas and two in sync
        Properties props = new Properties();
        try (var in = Files.newBufferedReader(DeployFiles.ROOT.resolve("deploy/compose/headwater.properties"))) {
            props.load(in);
        }
        assertThat(List.of(props.getProperty(HeadwaterConfigs.BOOTSTRAP_SERVERS).split(",")))
                .as("bootstrap.servers of the compose services").containsExactlyInAnyOrderElementsOf(internal);
        Map<String, String> settings = new HashMap<>();
        props.stringPropertyNames().forEach(k -> settings.put(k, props.getProperty(k)));
        TopicSettings.Resolved topics = TopicSettings.of(HeadwaterConfigs.parse(HeadwaterConfigs.common(), settings))
                .resolve(nodes.size());
        assertThat(topics.replicationFactor()).as("replication of the services' topics")
                .isEqualTo(Optional.of(TopicSettings.PRODUCTION_REPLICATION_FACTOR));
        assertThat(topics.minInsyncReplicas()).as("min.insync.replicas of the services' topics")
                .isEqualTo(Optional.of(TopicSettings.PRODUCTION_MIN_INSYNC_REPLICAS));
        for (String s : DeployManifestsTest.SERVICES) {
            JsonNode dependsOn = services.path(s).path("depends_on");
            for (String k : nodes.keySet()) {
                assertThat(dependsOn.path(k).path("condition").asText()).as(s + " waits for " + k)
                        .isEqualTo("service_healthy");
            }
        }
    }

    private static Map<String, JsonNode> kafkaNodes(JsonNode services) {
        Map<String, JsonNode> nodes = new LinkedHashMap<>();
        services.properties().forEach(e -> {
            if (e.getValue().path("image").asText().startsWith("apache/kafka:")) {
                nodes.put(e.getKey(), e.getValue());
            }
        });
        return new TreeMap<>(nodes);
    }

    /** An environment value of a service (map form, as written or as docker-compose resolves it). */
    private static String env(JsonNode service, String key) {
        JsonNode v = service.path("environment").path(key);
        assertThat(v.isMissingNode()).as(key + " is set").isFalse();
        return v.asText();
    }

    /** NAME://host:port,... as listener name to {host, port}. */
    private static Map<String, String[]> listeners(String spec) {
        Map<String, String[]> out = new LinkedHashMap<>();
        for (String l : spec.split(",")) {
            Matcher m = LISTENER.matcher(l.trim());
            assertThat(m.matches()).as("listener " + l).isTrue();
            out.put(m.group(1), new String[] {m.group(2), m.group(3)});
        }
        return out;
    }
}
