package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.FatalException;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Topics;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The registry's start-up check that its two inputs, model-candidates and registry-commands, have
 * the same partition count: a command must land in the partition that holds its task's stores.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RegistryStartupIT {
    EmbeddedKafkaBroker broker;

    @BeforeAll
    void startBroker() {
        broker = EmbeddedKafkaBroker.start();
    }

    @AfterAll
    void stopBroker() {
        broker.close();
    }

    Map<String, String> props(Topics topics) throws Exception {
        Map<String, String> p = new HashMap<>();
        p.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        p.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        p.put(HeadwaterConfigs.TOPIC_PARTITIONS, "3");
        p.put(RegistryConfig.API_PORT, "-1");
        p.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("registry-startup").toString());
        return p;
    }

    int partitions(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
    }

    @Test
    void shouldRefuseToStartWhenCandidatesAndCommandsHaveDifferentPartitionCounts() throws Exception {
        // given: topics made by hand, 2 and 4 partitions
        Topics topics = Topics.withPrefix("skew.");
        Map<String, String> props = props(topics);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            Topics.ensure(admin, List.of(topics.modelCandidates()), 2, (short) -1);
            Topics.ensure(admin, List.of(topics.registryCommands()), 4, (short) -1);
        }
        // when / then
        assertThatThrownBy(() -> Registry.start(new RegistryConfig(props), new SimpleMeterRegistry()))
                .isInstanceOf(FatalException.class)
                .hasMessage("skew.model-candidates has 2 partitions and skew.registry-commands has 4: the registry needs "
                        + "the same number on both, since it applies a task's commands in the partition that holds the "
                        + "task. Recreate skew.registry-commands with 2 partitions (it holds only operators' commands; "
                        + "the applied ones are in model-history)");
    }

    @Test
    void shouldCreateAMissingInputWithThePartitionCountOfTheOther() throws Exception {
        // given: model-candidates with 2 partitions (the trainer's), registry-commands missing, topic.partitions 3
        Topics topics = Topics.withPrefix("half.");
        Map<String, String> props = props(topics);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            Topics.ensure(admin, List.of(topics.modelCandidates()), 2, (short) -1);
            // when
            try (Registry registry = Registry.start(new RegistryConfig(props), new SimpleMeterRegistry())) {
                // then: registry-commands follows model-candidates, the outputs take topic.partitions
                assertThat(registry.healthy()).isTrue();
                assertThat(partitions(admin, topics.registryCommands().name())).isEqualTo(2);
                assertThat(partitions(admin, topics.modelUpdates().name())).isEqualTo(3);
            }
        }
    }
}
