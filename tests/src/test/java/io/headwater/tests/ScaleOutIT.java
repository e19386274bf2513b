package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scale-out with failover: two instances each of the extractor, trainer (with a standby replica)
 * and registry, as separate JVMs, on topics of 4 partitions carrying 4 tasks (one per partition).
 * Mid-stream one instance of each is SIGKILLed and not restarted: the survivors take its
 * partitions over and every example is still learned exactly once, versions without gaps.
 */
@Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
class ScaleOutIT {
    /** Task name, the bundled data it streams, and where in that data it starts; one task per partition. */
    static final List<String[]> TASKS = List.of(new String[] {"spam", "spam", "0"},
            new String[] {"fine-foods", "fine-foods", "0"}, new String[] {"spam-b", "spam", "2000"},
            new String[] {"fortunes-b", "fortunes", "0"});
    static final int PER_TASK = 300;
    static final double RATE_PER_SECOND = 12;
    /**
     * With static membership a dead instance's partitions move when its session times out; the
     * default is 45 s, this test runs with a shorter one (the trade-off: docs/operations.md, "Scaling and
     * fail-over").
     */
    static final String SESSION_TIMEOUT_MS = "10000";
    static final List<String> STAGES = List.of("extractor", "trainer", "registry");
    static final Map<String, String> GROUPS = Map.of("extractor", "scale-extractor", "trainer", "scale-trainer",
            "registry", "scale-registry");

    @Test
    void shouldHaveTheSurvivorsTakeOverAndLearnEveryExampleOnce() throws Exception {
        Path dir = Files.createTempDirectory("scale-out");
        Topics topics = Topics.withPrefix("scale.");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
             GroupProgress progress = new GroupProgress(broker.bootstrapServers())) {
            Map<String, List<Datasets.Line>> data = new LinkedHashMap<>();
            for (String[] t : TASKS) {
                int from = Integer.parseInt(t[2]);
                data.put(t[0], Datasets.shuffled(Datasets.bundled(t[1]), 11).subList(from, from + PER_TASK));
            }
            Map<String, ChildJvm> instances = new LinkedHashMap<>();
            for (String stage : STAGES) {
                for (int i = 0; i < 2; i++) {
                    instances.put(stage + "-" + i, ChildJvm.headwater(stage, props(broker.bootstrapServers(), topics, dir,
                            i), List.of(), dir.resolve(stage + "-" + i + ".log")));
                }
            }
            Map<String, Object> clientProps = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(
                    HeadwaterConfigs.common(), Map.of(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers())));
            try (ModelUpdateWatcher watcher = new ModelUpdateWatcher(clientProps, topics, u -> { })) {
                // given: both instances of each stage working, examples of all four tasks streaming in
                instances.values().forEach(ChildJvm::start);
                AtomicBoolean failing = new AtomicBoolean(true);
                Thread producer = new Thread(() -> produce(clientProps, topics, data, failing), "scale-out-producer");
                producer.start();
                for (String stage : STAGES) {
                    assertThat(progress.millisUntilCommitPast(GROUPS.get(stage), 0, System.nanoTime(),
                            Duration.ofMinutes(2))).as(stage + " commits").isPresent();
                }
                ChildBroker.sleep(4_000);
                assertThat(producer.isAlive()).as("examples still streaming at the kill").isTrue();
                // when: one instance of each stage dies for good
                Map<String, Map<TopicPartition, Long>> before = new HashMap<>();
                for (String stage : STAGES) {
                    instances.get(stage + "-1").kill();
                }
                long killedAt = System.nanoTime();
                // Where each group stood once a commit the dead ones had sent has landed; on the topic that
                // flows (the registry's group holds registry-commands too, which carries nothing here).
                ChildBroker.sleep(1_000);
                Map<String, String> inputs = Map.of("extractor", topics.examples().name(), "trainer",
                        topics.features().name(), "registry", topics.modelCandidates().name());
                for (String stage : STAGES) {
                    Map<TopicPartition, Long> at = new HashMap<>(progress.committedByPartition(GROUPS.get(stage)));
                    at.keySet().removeIf(tp -> !tp.topic().equals(inputs.get(stage)));
                    assertThat(at).as(stage + " has committed on all 4 partitions").hasSize(4);
                    before.put(stage, at);
                }
                // then: the survivors commit on every partition again
                Map<String, Long> failover = new LinkedHashMap<>();
                for (String stage : STAGES) {
                    long ms = progress.millisUntilEveryPartitionPast(GROUPS.get(stage), before.get(stage), killedAt,
                            Duration.ofMinutes(2));
                    failover.put(stage, ms);
                    System.out.printf("ScaleOutIT: the surviving %s committed on all 4 partitions %d ms after the kill%n",
                            stage, ms);
                }
                failing.set(false);
                producer.join();
                long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                while (System.nanoTime() < deadline && !allLearned(watcher)) {
                    ChildBroker.sleep(500);
                }
                assertThat(allLearned(watcher)).as("every head's last candidate has every example").isTrue();
                for (String stage : STAGES) {
                    assertThat(instances.get(stage + "-0").alive()).as("surviving " + stage).isTrue();
                    assertThat(failover.get(stage)).as(stage + " fail-over").isPositive();
                }
                Map<String, List<String>> ids = new HashMap<>();
                for (ConsumerRecord<String, FeatureRecord> r : TopicReader.readAll(clientProps, topics.features().name(),
                        new StringDeserializer(), topics.features().valueSerde().deserializer())) {
                    ids.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value().exampleId());
                }
                for (var e : data.entrySet()) {
                    assertThat(ids.get(e.getKey())).as("feature ids of " + e.getKey()).containsExactlyElementsOf(
                            e.getValue().stream().map(l -> l.json().orElseThrow().get("id").asText()).toList());
                    List<Long> versions = watcher.updates(e.getKey()).stream().map(ModelUpdate::version).toList();
                    assertThat(versions).as("versions of " + e.getKey())
                            .containsExactlyElementsOf(LongStream.rangeClosed(1, versions.size()).boxed().toList());
                    assertThat(watcher.decisions(e.getKey())).extracting(ModelDecision::sequence)
                            .containsExactlyElementsOf(LongStream.rangeClosed(1, watcher.decisions(e.getKey()).size())
                                    .boxed().toList());
                }
            } finally {
                instances.values().forEach(ChildJvm::kill);
            }
        }
    }

    static Map<String, String> props(String bootstrap, Topics topics, Path dir, int instance) {
        Map<String, String> p = new HashMap<>();
        p.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, bootstrap);
        p.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        p.put(HeadwaterConfigs.TOPIC_PARTITIONS, "4");
        p.put(HeadwaterConfigs.METRICS_PORT, "-1");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_TIMEOUT_MS);
        p.put(ExtractorConfig.GROUP_ID, GROUPS.get("extractor"));
        p.put(ExtractorConfig.TRANSACTIONAL_ID, "scale-extractor-" + instance);
        p.put(ExtractorConfig.CACHE_DIR, dir.resolve("cache-" + instance).toString());
        p.put(TrainerConfig.APPLICATION_ID, GROUPS.get("trainer"));
        p.put(TrainerConfig.INSTANCE_ID, "scale-trainer-" + instance);
        p.put(TrainerConfig.STATE_DIR, dir.resolve("trainer-" + instance).toString());
        p.put(TrainerConfig.HEAD_TYPE, "lda");
        p.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "100");
        p.put(TrainerConfig.CANDIDATE_EVERY_MS, "1000");
        // A warm copy of each task's state on the other instance, so a fail-over does not restore from scratch.
        p.put("num.standby.replicas", "1");
        p.put(RegistryConfig.APPLICATION_ID, GROUPS.get("registry"));
        p.put(RegistryConfig.INSTANCE_ID, "scale-registry-" + instance);
        p.put(RegistryConfig.STATE_DIR, dir.resolve("registry-" + instance).toString());
        p.put(RegistryConfig.API_PORT, "-1");
        return p;
    }

    /** The tasks interleaved at random, each in data set order: steadily while {@code failing}, then the rest. */
    static void produce(Map<String, Object> clientProps, Topics topics, Map<String, List<Datasets.Line>> data,
                        AtomicBoolean failing) {
        Map<String, Integer> next = new LinkedHashMap<>();
        data.keySet().forEach(t -> next.put(t, 0));
        Random random = new Random(12);
        try (ExampleProducer producer = new ExampleProducer(clientProps, topics)) {
            long start = System.nanoTime();
            int n = 0;
            while (!next.isEmpty()) {
                List<String> left = new ArrayList<>(next.keySet());
                String task = left.get(random.nextInt(left.size()));
                int i = next.get(task);
                producer.send(task, data.get(task).get(i));
                if (i + 1 < data.get(task).size()) {
                    next.put(task, i + 1);
                } else {
                    next.remove(task);
                }
                long wait = start + (long) (++n / RATE_PER_SECOND * 1e9) - System.nanoTime();
                if (wait > 0 && failing.get()) {
                    ChildBroker.sleep(wait / 1_000_000);
                }
            }
            producer.flush();
        }
    }

    static boolean allLearned(ModelUpdateWatcher watcher) {
        return TASKS.stream().allMatch(t -> watcher.decidedOn(t[0], "lda", PER_TASK));
    }
}
