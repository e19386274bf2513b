package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.FatalException;
import io.headwater.kafka.EmbeddedKafkaCluster;
import io.headwater.kafka.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The child-JVM cluster helper itself: a node that cannot start, one that is slow, kill and restart. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class EmbeddedKafkaClusterIT {

    @Test
    void shouldNameTheNodeAndKeepItsLogWhenANodeCannotStart() throws Exception {
        // given: a broker setting Kafka refuses
        var builder = EmbeddedKafkaCluster.builder().nodes(1).property("num.network.threads", "none");
        // when / then
        assertThatThrownBy(builder::start).isInstanceOf(FatalException.class)
                .hasMessageContaining("Kafka node 1 exited with 1 before it was ready; its log: ")
                .satisfies(e -> {
                    Path log = Path.of(e.getMessage().substring(e.getMessage().indexOf("its log: ") + 9));
                    assertThat(Files.readString(log)).contains("num.network.threads");
                });
    }

    @Test
    void shouldGiveUpOnANodeThatIsNotReadyInTime() {
        var builder = EmbeddedKafkaCluster.builder().nodes(1).readyTimeout(Duration.ofMillis(1));
        assertThatThrownBy(builder::start).isInstanceOf(FatalException.class)
                .hasMessageContaining("Kafka node 1 not ready within PT0.001S; its log: ");
    }

    @Test
    void shouldKeepTopicsAcrossAKillAndRestartAndRefuseWhatMakesNoSense() throws Exception {
        try (EmbeddedKafkaCluster cluster = EmbeddedKafkaCluster.start(1)) {
            // given: a topic on a one-node cluster
            Topics topics = Topics.withPrefix("helper.");
            Map<String, Object> admin = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
            try (Admin a = Admin.create(admin)) {
                Topics.ensure(a, List.of(topics.examples()), 1, (short) -1);
            }
            assertThat(cluster.bootstrapServers(1)).isEqualTo(cluster.bootstrapServers());
            assertThatThrownBy(() -> cluster.restart(1)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("node 1 is running");
            assertThatThrownBy(() -> cluster.kill(7)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("no node 7 in a cluster of [1]");
            // when
            cluster.kill(1);
            // then
            assertThat(cluster.running(1)).isFalse();
            assertThatThrownBy(() -> cluster.kill(1)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("node 1 is not running");
            cluster.restart(1);
            assertThat(cluster.running(1)).isTrue();
            try (Admin a = Admin.create(admin)) {
                assertThat(a.listTopics().names().get()).contains(topics.examples().name());
            }
            assertThat(cluster.log(1)).content().contains("READY 127.0.0.1:");
        }
    }
}
