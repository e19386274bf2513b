package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.cli.Pipeline;
import io.headwater.client.ModelClient;
import io.headwater.client.LiveModel;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A broker that stops answering for longer than the clients' {@code request.timeout.ms}, twice,
 * while examples stream in and the stages commit: the broker's JVM is frozen with SIGSTOP and
 * thawed with SIGCONT. The transactional calls that time out meanwhile are called again, and every
 * stage goes on afterwards without losing or duplicating an example.
 */
@Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
class SlowBrokerIT {
    static final Map<String, Integer> EXAMPLES = Map.of("spam", 300, "fine-foods", 300);
    static final long STALL_MS = 8_000;
    static final String REQUEST_TIMEOUT_MS = "3000";

    @Test
    void shouldRecoverEveryStageWithoutLossOrDuplicatesAfterTheBrokerStalls() throws Exception {
        Path dir = Files.createTempDirectory("slow-broker");
        Topics topics = Topics.withPrefix("slow.");
        try (ChildBroker broker = ChildBroker.start(dir, Map.of());
             GroupProgress progress = new GroupProgress(broker.bootstrapServers())) {
            Map<String, String> props = new HashMap<>();
            props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
            // Standard client settings, passed through to every client: calls give up well within a stall.
            props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS);
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "4000");
            props.put(ExtractorConfig.GROUP_ID, "slow-extractor");
            props.put(ExtractorConfig.CACHE_DIR, dir.resolve("cache").toString());
            props.put(TrainerConfig.APPLICATION_ID, "slow-trainer");
            props.put(TrainerConfig.STATE_DIR, dir.resolve("trainer").toString());
            props.put(TrainerConfig.HEAD_TYPE, "lda");
            props.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "100");
            props.put(TrainerConfig.CANDIDATE_EVERY_MS, "1000");
            props.put(RegistryConfig.APPLICATION_ID, "slow-registry");
            props.put(RegistryConfig.STATE_DIR, dir.resolve("registry").toString());
            props.put(RegistryConfig.API_PORT, "-1");
            Map<String, Object> clientProps = HeadwaterConfigs.clientProperties(
                    HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            Map<String, List<Datasets.Line>> data = new LinkedHashMap<>();
            EXAMPLES.forEach((task, n) -> data.put(task, Datasets.shuffled(Datasets.bundled(task), 9).subList(0, n)));
            List<String> swapped = new CopyOnWriteArrayList<>();
            try (Pipeline pipeline = Pipeline.start(props, meters);
                 ModelUpdateWatcher watcher = new ModelUpdateWatcher(clientProps, topics, u -> { });
                 ModelClient client = ModelClient.builder(clientProps, topics).backbone(pipeline.backbone()).build()) {
                client.addListener(m -> swapped.add(m.task() + "@" + m.version()));
                client.start();
                // given: examples streaming in at a steady rate
                Thread producer = new Thread(() -> produce(clientProps, topics, data), "slow-broker-producer");
                producer.start();
                assertThat(progress.millisUntilCommitPast("slow-trainer", 0, System.nanoTime(), Duration.ofMinutes(2)))
                        .isPresent();
                // when: the broker freezes twice for longer than request.timeout.ms
                List<String> recovery = new ArrayList<>();
                for (int stall = 0; stall < 2; stall++) {
                    Thread.sleep(3_000);
                    Map<String, Long> before = new HashMap<>();
                    for (String g : List.of("slow-extractor", "slow-trainer", "slow-registry")) {
                        before.put(g, progress.committed(g));
                    }
                    broker.pause();
                    Thread.sleep(STALL_MS);
                    broker.resume();
                    long resumedAt = System.nanoTime();
                    for (String g : before.keySet()) {
                        OptionalLong ms = progress.millisUntilCommitPast(g, before.get(g), resumedAt,
                                Duration.ofMinutes(2));
                        assertThat(ms).as(g + " commits again after stall " + stall).isPresent();
                        recovery.add(g + " " + ms.getAsLong() + " ms");
                    }
                }
                producer.join();
                long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                while (System.nanoTime() < deadline && !allLearned(watcher)) {
                    Thread.sleep(500);
                }
                System.out.println("SlowBrokerIT: after SIGCONT, first commit of " + recovery
                        + "; extractor calls retried " + meters.get("headwater.extractor.calls.retried").counter().count()
                        + ", transactions aborted " + meters.get("headwater.extractor.transactions.aborted").counter().count());
                // then: nothing lost, nothing twice, no stage died, and the retry path was taken
                assertThat(pipeline.failure()).as("no service died").isNotDone();
                assertThat(allLearned(watcher)).as("every head's last candidate has every example").isTrue();
                Map<String, List<String>> ids = new HashMap<>();
                for (ConsumerRecord<String, FeatureRecord> r : TopicReader.readAll(clientProps, topics.features().name(),
                        new StringDeserializer(), topics.features().valueSerde().deserializer())) {
                    ids.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value().exampleId());
                }
                for (var e : data.entrySet()) {
                    assertThat(ids.get(e.getKey())).as("features of " + e.getKey()).containsExactlyElementsOf(
                            e.getValue().stream().map(l -> l.json().orElseThrow().get("id").asText()).toList());
                    List<Long> versions = watcher.updates(e.getKey()).stream().map(ModelUpdate::version).toList();
                    assertThat(versions).containsExactlyElementsOf(
                            LongStream.rangeClosed(1, versions.size()).boxed().toList());
                    assertThat(watcher.decisions(e.getKey())).extracting(ModelDecision::sequence)
                            .containsExactlyElementsOf(LongStream.rangeClosed(1,
                                    watcher.decisions(e.getKey()).size()).boxed().toList());
                    long newest = versions.get(versions.size() - 1);
                    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (client.current(e.getKey()).map(LiveModel::version).orElse(0L) < newest
                            && System.nanoTime() < until) {
                        Thread.sleep(100);
                    }
                    assertThat(swapped).as("the client swapped in every version of " + e.getKey())
                            .containsAll(versions.stream().map(v -> e.getKey() + "@" + v).toList());
                }
                assertThat(meters.get("headwater.extractor.calls.retried").counter().count()
                        + meters.get("headwater.extractor.transactions.aborted").counter().count())
                        .as("the extractor met the stall in a transactional call").isPositive();
                assertThat(pipeline.healths()).allSatisfy(h -> assertThat(h.status().live()).as(h.stage()).isTrue());
            }
        }
    }

    static boolean allLearned(ModelUpdateWatcher watcher) {
        return EXAMPLES.entrySet().stream().allMatch(e -> watcher.decidedOn(e.getKey(), "lda", e.getValue()));
    }

    static void produce(Map<String, Object> clientProps, Topics topics, Map<String, List<Datasets.Line>> data) {
        Map<String, Object> props = new HashMap<>(clientProps);
        // This producer stands for the users' and waits out the stalls.
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        try (ExampleProducer producer = new ExampleProducer(props, topics)) {
            int n = data.values().stream().mapToInt(List::size).max().orElse(0);
            for (int i = 0; i < n; i++) {
                for (var e : data.entrySet()) {
                    if (i < e.getValue().size()) {
                        producer.send(e.getKey(), e.getValue().get(i));
                    }
                }
                ChildBroker.sleep(60);
            }
            producer.flush();
        }
    }
}
