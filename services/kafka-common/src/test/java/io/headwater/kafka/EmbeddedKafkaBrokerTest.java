package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The embedded broker's command line and replication defaults; no broker is started. */
class EmbeddedKafkaBrokerTest {

    @Test
    void shouldReplicateInternalTopicsThreeTimesWithTwoInSyncWhenTheClusterHasThreeNodes() {
        assertThat(EmbeddedKafkaBroker.replicationDefaults(3)).containsExactly(
                java.util.Map.entry("offsets.topic.replication.factor", "3"),
                java.util.Map.entry("transaction.state.log.replication.factor", "3"),
                java.util.Map.entry("transaction.state.log.min.isr", "2"),
                java.util.Map.entry("share.coordinator.state.topic.replication.factor", "3"),
                java.util.Map.entry("share.coordinator.state.topic.min.isr", "2"));
        assertThat(EmbeddedKafkaBroker.replicationDefaults(5)).isEqualTo(EmbeddedKafkaBroker.replicationDefaults(3));
        assertThat(EmbeddedKafkaBroker.replicationDefaults(1).values()).containsOnly("1");
        assertThat(EmbeddedKafkaBroker.replicationDefaults(2)).containsEntry("offsets.topic.replication.factor", "2")
                .containsEntry("transaction.state.log.min.isr", "1");
    }

    @Test
    void shouldAcceptNodeIdVotersClusterIdAndBrokerSettingsWhenGivenOnTheCommandLine() {
        // when
        EmbeddedKafkaBroker.Builder b = EmbeddedKafkaBroker.fromArguments(new String[] {"9092", "9093", "/tmp/x",
            "--node-id=2", "--voters=1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3", "--cluster-id=abc",
            "--parent-pid=1", "num.io.threads=2", "offsets.topic.replication.factor=2"});
        var p = EmbeddedKafkaBroker.serverProperties(b, 9092, 9093);
        // then: a node of a three-node quorum, with replicated internal topics unless told otherwise
        assertThat(p).containsEntry("node.id", "2")
                .containsEntry("controller.quorum.voters", "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3")
                .containsEntry("listeners", "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093")
                .containsEntry("advertised.listeners", "PLAINTEXT://127.0.0.1:9092")
                .containsEntry("log.dirs", "/tmp/x")
                .containsEntry("num.io.threads", "2")
                .containsEntry("transaction.state.log.min.isr", "2")
                .containsEntry("offsets.topic.replication.factor", "2");
        // and a single node alone is its own quorum
        var single = EmbeddedKafkaBroker.serverProperties(EmbeddedKafkaBroker.builder().logDir(java.nio.file.Path.of("/d")),
                1, 2);
        assertThat(single).containsEntry("node.id", "1").containsEntry("controller.quorum.voters", "1@127.0.0.1:2")
                .containsEntry("offsets.topic.replication.factor", "1");
    }

    @Test
    void shouldNameTheBadArgumentWhenTheCommandLineIsWrong() {
        assertThatThrownBy(() -> EmbeddedKafkaBroker.fromArguments(new String[] {"9092", "9093"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected PORT CONTROLLER_PORT DATA_DIR, found 2 argument(s)");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.fromArguments(new String[] {"ninety", "9093", "/tmp/x"}))
                .hasMessage("PORT must be a number, found 'ninety'");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.fromArguments(new String[] {"1", "2", "/tmp/x", "--node-id=two"}))
                .hasMessage("--node-id must be a number, found 'two'");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.fromArguments(new String[] {"1", "2", "/tmp/x", "--nodes=3"}))
                .hasMessage("unknown option --nodes=3");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.fromArguments(new String[] {"1", "2", "/tmp/x", "verbose"}))
                .hasMessage("not key=value: verbose");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().nodeId(-1))
                .hasMessage("node id must be >= 0, found -1");
    }
}
