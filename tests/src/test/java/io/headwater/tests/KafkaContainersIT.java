package io.headwater.tests;

import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.utility.DockerImageName;

/**
 * The broker-loss runs of {@link BrokerLossContract}, the same runs and assertions as
 * {@link ClusterFailureIT}, on three containers of the official {@code apache/kafka} image (the
 * version of the Kafka clients) through Testcontainers' Kafka module, with the replication settings of
 * {@code docker-compose.yml}. Opt-in, since it pulls the image: {@code ./mvnw -B -Ptestcontainers -pl
 * tests -am verify -Dit.test=KafkaContainersIT -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}.
 * It skips, saying why, without the profile or without a Docker engine.
 */
class KafkaContainersIT extends BrokerLossContract {
    /** Set by the {@code testcontainers} Maven profile. */
    static final String ENABLED = "headwater.testcontainers";
    static final DockerImageName IMAGE = DockerImageName.parse("apache/kafka").withTag(AppInfoParser.getVersion());

    private static final Logger LOG = LoggerFactory.getLogger(KafkaContainersIT.class);

    @Override
    protected BrokerCluster startCluster() {
        if (!Boolean.getBoolean(ENABLED)) {
            skip("Testcontainers runs are opt-in (they pull " + IMAGE.asCanonicalNameString()
                    + "): run with -Ptestcontainers");
        }
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            skip("no Docker engine answers (Testcontainers tried DOCKER_HOST, ~/.testcontainers.properties and "
                    + "/var/run/docker.sock; a docker command without a running daemon is not enough), so "
                    + IMAGE.asCanonicalNameString() + " cannot run here; ClusterFailureIT runs the same checks on "
                    + "child JVMs");
        }
        return ContainerCluster.start(IMAGE, 3);
    }

    private static void skip(String reason) {
        LOG.warn("KafkaContainersIT skipped: {}", reason);
        Assumptions.abort(reason);
    }
}
