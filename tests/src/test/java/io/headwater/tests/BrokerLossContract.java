package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Topic;
import io.headwater.kafka.TopicSettings;
import io.headwater.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The whole loop on a three-broker cluster while brokers die: every implementation of
 * {@link BrokerCluster} runs exactly these runs and assertions. Topics get Headwater's production
 * settings (replication factor 3, {@code min.insync.replicas=2}) because the cluster has three brokers.
 *
 * <ul>
 * <li>One broker, the one leading the most partitions, is killed hard mid-stream and restarted
 *     once the stream moves again: nothing is lost or duplicated, versions are gap-free, the client
 *     saw each one, and the time each stage made no progress is reported.</li>
 * <li>Two brokers are killed together and stay down for {@link #OUTAGE}: no write is acknowledged
 *     while only one replica is left (producers and services wait), and when one broker is back the
 *     stream goes on without loss.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BrokerLossContract {
    /** Small on purpose: the int8 backbone embeds some hundreds of short texts a second on 2 cores. */
    static final Map<String, Integer> EXAMPLES = Map.of("spam", 450, "fine-foods", 450);
    /** Below what the extractor manages, so a stall is the broker's doing, not a backlog's. */
    static final int RATE_PER_SECOND = 30;
    /** Examples sent before the cluster is broken: enough for a first version of each task. */
    static final int WARMUP = 200;
    /** How far into the rest of the stream the cluster is broken. */
    static final Duration BREAK_AFTER = Duration.ofSeconds(3);
    static final Duration OUTAGE = Duration.ofSeconds(12);
    static final Duration STAGE_TIMEOUT = Duration.ofMinutes(2);
    /**
     * How long the services may take to learn everything once the stream is in: generous, since a
     * Streams thread that a broker loss fenced can take a minute or two to come back (see README).
     */
    static final Duration LEARN_TIMEOUT = Duration.ofMinutes(3);

    BrokerCluster cluster;
    private final List<Integer> killed = new ArrayList<>();

    /**
     * A fresh cluster of three brokers, each also a controller voter; an implementation that cannot
     * run here aborts with a JUnit assumption that says why, and each run is reported skipped with it.
     */
    protected abstract BrokerCluster startCluster();

    /** One cluster for both runs (each run restores it); started before the first. */
    @BeforeEach
    void startTheClusterOnce() {
        if (cluster == null) {
            cluster = startCluster();
            assertThat(cluster.nodeIds()).hasSize(3);
        }
    }

    @AfterAll
    void stopTheCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Whatever a run killed comes back, so the next run starts on three brokers. */
    @AfterEach
    void restartWhatWasKilled() {
        new ArrayList<>(killed).forEach(this::restart);
    }

    private long kill(WholeLoop loop, int node) {
        long at = loop.now();
        cluster.kill(node);
        killed.add(node);
        return at;
    }

    private void restart(int node) {
        cluster.restart(node);
        killed.remove(Integer.valueOf(node));
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void shouldLearnEveryExampleExactlyOnceWhenTheBusiestBrokerIsKilledMidStreamAndRestarted() throws Exception {
        try (WholeLoop loop = WholeLoop.start(cluster, "one", EXAMPLES, WARMUP, RATE_PER_SECOND)) {
            // given: the loop streaming, every task with a first version
            loop.awaitFirstVersions(STAGE_TIMEOUT);
            WholeLoop.Leader busiest = loop.busiestBroker();
            loop.release();
            loop.hold(BREAK_AFTER);
            // when: the broker leading the most partitions dies, and comes back once the stream moves again
            long killedAt = kill(loop, busiest.node());
            loop.awaitCommitsAfter(killedAt, 30, STAGE_TIMEOUT);
            loop.hold(Duration.ofSeconds(2));
            long restartedAt = loop.now();
            restart(busiest.node());
            long backAt = loop.now();
            loop.awaitStreamed(STAGE_TIMEOUT);
            loop.awaitLearned(LEARN_TIMEOUT);
            // then
            WholeLoop.Stall stall = loop.stallAfter(killedAt);
            WholeLoop.report(String.format("[%s] one broker lost: killed %s at %.1f s into the stream, restarted "
                    + "%.1f s later (live again after %.1f s more); longest time without progress: %s; %d examples, "
                    + "versions %s; not live by health: %s ms; stream threads replaced: %s", cluster.describe(), busiest,
                    (killedAt - loop.streamStartedAt()) / 1000.0, (restartedAt - killedAt) / 1000.0,
                    (backAt - restartedAt) / 1000.0, stall, loop.produced(), versions(loop), loop.notLiveMs,
                    loop.threadsReplaced()));
            loop.assertEveryExampleLearnedExactlyOnce();
            loop.assertReplicatedAsInProduction();
            assertThat(loop.progressBetween(WholeLoop.Sample::acked, killedAt, restartedAt))
                    .as("examples acknowledged on two brokers, before the third came back").isPositive();
            assertThat(loop.progressBetween(WholeLoop.Sample::committed, killedAt, restartedAt))
                    .as("features committed on two brokers, before the third came back").isPositive();
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void shouldAcceptNothingWhileTwoBrokersAreDownAndLoseNothingWhenOneComesBack() throws Exception {
        try (WholeLoop loop = WholeLoop.start(cluster, "two", EXAMPLES, WARMUP, RATE_PER_SECOND)) {
            // given: the loop streaming, every task with a first version
            loop.awaitFirstVersions(STAGE_TIMEOUT);
            WholeLoop.Leader busiest = loop.busiestBroker();
            int second = cluster.nodeIds().stream().filter(n -> n != busiest.node())
                    .max((a, b) -> Integer.compare(busiest.leadersByNode().getOrDefault(a, 0),
                            busiest.leadersByNode().getOrDefault(b, 0))).orElseThrow();
            Topic<String, byte[]> probe = createProbeTopic(loop);
            loop.release();
            loop.hold(BREAK_AFTER);
            // when: two of the three brokers die together and stay down
            long killedAt = kill(loop, busiest.node());
            kill(loop, second);
            loop.hold(Duration.ofSeconds(2));
            Exception refused = probeWrite(loop, probe);
            long left = OUTAGE.toMillis() - (loop.now() - killedAt);
            loop.hold(Duration.ofMillis(Math.max(0, left)));
            long restartedAt = loop.now();
            restart(second);
            long backAt = loop.now();
            loop.awaitCommitsAfter(backAt, 30, STAGE_TIMEOUT);
            loop.hold(Duration.ofSeconds(3));
            restart(busiest.node());
            loop.awaitStreamed(STAGE_TIMEOUT);
            loop.awaitLearned(LEARN_TIMEOUT);
            // then: nothing was acknowledged or committed with one broker left
            long grace = 1_000;
            long ackedWhileDown = loop.progressBetween(WholeLoop.Sample::acked, killedAt + grace, restartedAt);
            long committedWhileDown = loop.progressBetween(WholeLoop.Sample::committed, killedAt + grace, restartedAt);
            WholeLoop.Stall stall = loop.stallAfter(killedAt);
            WholeLoop.report(String.format("[%s] two brokers lost: killed %s and node %d at %.1f s into the stream, "
                    + "node %d restarted %.1f s later (live again after %.1f s more); while down: %d examples "
                    + "acknowledged, %d committed, a probe write failed with %s; longest time without progress: %s; "
                    + "%d examples, versions %s; not live by health: %s ms; stream threads replaced: %s",
                    cluster.describe(), busiest, second,
                    (killedAt - loop.streamStartedAt()) / 1000.0, second,
                    (restartedAt - killedAt) / 1000.0, (backAt - restartedAt) / 1000.0, ackedWhileDown,
                    committedWhileDown, refused.getClass().getSimpleName(), stall, loop.produced(), versions(loop),
                    loop.notLiveMs, loop.threadsReplaced()));
            assertThat(ackedWhileDown).as("examples acknowledged while two of three brokers were down").isZero();
            assertThat(committedWhileDown).as("features committed while two of three brokers were down").isZero();
            assertThat(loop.progressBetween(WholeLoop.Sample::acked, restartedAt, loop.now()))
                    .as("examples acknowledged once a second broker was back").isPositive();
            loop.assertEveryExampleLearnedExactlyOnce();
            loop.assertReplicatedAsInProduction();
        }
    }

    /** A topic outside the loop, created as Headwater creates its own, for {@link #probeWrite}. */
    private static Topic<String, byte[]> createProbeTopic(WholeLoop loop) {
        Topic<String, byte[]> probe = Topics.withPrefix(loop.topics.prefix() + "probe.").examples();
        try (Admin admin = Admin.create(loop.clientProps)) {
            Topics.ensure(admin, List.of(probe), TopicSettings.of(HeadwaterConfigs.parse(HeadwaterConfigs.common(),
                    loop.props)));
        }
        return probe;
    }

    /**
     * Writes one record with acks=all and a short delivery timeout; returns why the cluster refused
     * it, and fails when it was accepted.
     */
    private static Exception probeWrite(WholeLoop loop, Topic<String, byte[]> probe) {
        Map<String, Object> p = new HashMap<>(loop.clientProps);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 4_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 4_000);
        KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        try {
            var sent = producer.send(new ProducerRecord<>(probe.name(), "probe", "must not be accepted"));
            try {
                sent.get(15, TimeUnit.SECONDS);
                throw new AssertionError("a write while two brokers are down was acknowledged");
            } catch (ExecutionException e) {
                return (Exception) e.getCause();
            } catch (java.util.concurrent.TimeoutException e) {
                // Not acknowledged either: the batch can sit on a connection to a dead node past its
                // delivery timeout.
                return e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            // Without a bound, close() waits for that batch for ever.
            producer.close(Duration.ofSeconds(5));
        }
    }

    private static Map<String, Long> versions(WholeLoop loop) {
        Map<String, Long> v = new java.util.TreeMap<>();
        loop.clientVersions.forEach((t, l) -> v.put(t, l.isEmpty() ? 0 : l.get(l.size() - 1)));
        return v;
    }
}
