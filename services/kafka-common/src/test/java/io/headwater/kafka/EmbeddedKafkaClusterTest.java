package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.FatalException;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The cluster helper's checks that need no broker; {@code EmbeddedKafkaClusterIT} starts real nodes. */
class EmbeddedKafkaClusterTest {

    @Test
    void shouldNameTheMissingBrokersWhenNothingAnswersInTime() {
        // given: nothing listens on the port
        String nowhere = "127.0.0.1:" + EmbeddedKafkaBroker.freePort();
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        // when / then
        assertThatThrownBy(() -> EmbeddedKafkaCluster.awaitBrokers(nowhere, Set.of(2), deadline, Duration.ofSeconds(1),
                "logs in /x"))
                .isInstanceOf(FatalException.class)
                .hasMessageStartingWith("Brokers [2] of " + nowhere + " not live within PT1S (live: [])")
                .hasMessageEndingWith("; logs in /x");
    }

    @Test
    void shouldPickNodePortsBelowTheEphemeralRangeWhenChoosingPorts() {
        // given
        Set<Integer> taken = new java.util.HashSet<>();
        // when
        for (int i = 0; i < 20; i++) {
            EmbeddedKafkaCluster.nodePort(taken);
        }
        // then: distinct, free a moment ago, and never a port the kernel hands to outgoing connections
        assertThat(taken).hasSize(20).allSatisfy(p -> assertThat(p).isBetween(10_000,
                EmbeddedKafkaCluster.ephemeralRangeStart() - 1));
    }

    @Test
    void shouldRefuseAClusterWithoutNodes() {
        assertThatThrownBy(() -> EmbeddedKafkaCluster.builder().nodes(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a cluster needs at least one node, found 0");
    }
}
