package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.cli.Pipeline;
import io.headwater.client.ModelClient;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole loop (extractor, trainer, registry and a subscribed {@link ModelClient}) on a given
 * cluster, fed by a producer that streams bundled data sets at a steady rate, and a probe that
 * samples every stage's progress ten times a second. The broker-loss tests break the cluster under
 * it, then {@link #assertEveryExampleLearnedExactlyOnce()} and {@link #assertReplicatedAsInProduction()}.
 *
 * <pre>{@code
 * try (WholeLoop loop = WholeLoop.start(cluster, "one", Map.of("spam", 400), 100, 30)) {
 *     loop.awaitFirstVersions(Duration.ofMinutes(1));
 *     loop.release();
 *     long killedAt = loop.now(); cluster.kill(2);
 *     loop.awaitStreamed(Duration.ofMinutes(2)); loop.awaitLearned(Duration.ofMinutes(2));
 *     loop.assertEveryExampleLearnedExactlyOnce();
 * }
 * }</pre>
 */
final class WholeLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WholeLoop.class);
    static final String HEAD = "lda";
    static final long SEED = 7;

    final String name;
    final Topics topics;
    final Map<String, String> props = new HashMap<>();
    final Map<String, Object> clientProps;
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final Map<String, Set<String>> ids = new LinkedHashMap<>();
    final Map<String, List<Long>> clientVersions = new ConcurrentHashMap<>();
    final AtomicLong acked = new AtomicLong();
    final List<Exception> sendErrors = new CopyOnWriteArrayList<>();
    final List<Sample> samples = new CopyOnWriteArrayList<>();
    private final long t0 = System.nanoTime();
    private final Pipeline pipeline;
    private final java.util.concurrent.CompletableFuture<Throwable> died;
    /** Per stage, how long its health said it was not live (stuck or stopped), to the probe's resolution. */
    final Map<String, AtomicLong> notLiveMs = new ConcurrentHashMap<>();
    private final ModelUpdateWatcher watcher;
    private final ModelClient client;
    private final Thread producer;
    private final Thread sampler;
    private final CountDownLatch streamed = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private final int warmup;
    private volatile RuntimeException producerFailure;
    private volatile boolean running = true;
    private volatile long streamStartedAt = -1;

    /**
     * The stages' counters at one moment, {@code atMs} after the loop started: examples the cluster
     * acknowledged to the producer, examples whose features the extractor committed, examples the
     * trainer learned, registry decisions on {@code model-history} (read_committed) and versions the
     * client swapped to.
     */
    record Sample(long atMs, long acked, long committed, long learned, long decided, long served) {
    }

    /** The longest time each stage made no progress, from a moment on. */
    record Stall(long producerMs, long extractorMs, long trainerMs, long registryMs, long clientMs) {
        @Override
        public String toString() {
            return String.format("producer acks %.1f s, extractor commits %.1f s, trainer %.1f s, registry decisions "
                    + "%.1f s, client versions %.1f s", producerMs / 1000.0, extractorMs / 1000.0, trainerMs / 1000.0,
                    registryMs / 1000.0, clientMs / 1000.0);
        }
    }

    private WholeLoop(BrokerCluster cluster, String name, Map<String, Integer> examples, int warmup,
                      int ratePerSecond) throws Exception {
        this.name = name;
        this.warmup = warmup;
        this.topics = Topics.withPrefix("loss-" + name + ".");
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, cluster.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(TrainerConfig.APPLICATION_ID, "loss-" + name + "-trainer");
        props.put(RegistryConfig.APPLICATION_ID, "loss-" + name + "-registry");
        props.put(ExtractorConfig.GROUP_ID, "loss-" + name + "-extractor");
        props.put(ExtractorConfig.TRANSACTIONAL_ID, "loss-" + name + "-extractor-0");
        props.put(TrainerConfig.HEAD_TYPE, HEAD);
        props.put(TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "100");
        props.put(TrainerConfig.CANDIDATE_EVERY_MS, "3000");
        props.put(TrainerConfig.STATE_DIR, Files.createTempDirectory("loss-trainer").toString());
        props.put(RegistryConfig.STATE_DIR, Files.createTempDirectory("loss-registry").toString());
        props.put(RegistryConfig.API_PORT, "0");
        props.put(ExtractorConfig.CACHE_DIR, Files.createTempDirectory("loss-cache").toString());
        clientProps = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));

        Map<String, List<Datasets.Line>> lines = new LinkedHashMap<>();
        examples.forEach((task, n) -> {
            List<Datasets.Line> l = Datasets.shuffled(Datasets.bundled(task), SEED).subList(0, n);
            lines.put(task, l);
            ids.put(task, l.stream().map(x -> x.json().orElseThrow().get("id").asText())
                    .collect(Collectors.toCollection(LinkedHashSet::new)));
        });
        pipeline = Pipeline.start(props, meters);
        died = pipeline.failure();
        watcher = new ModelUpdateWatcher(clientProps, topics, u -> { });
        client = ModelClient.builder(clientProps, topics).backbone(pipeline.backbone()).build();
        client.addListener(m -> clientVersions.computeIfAbsent(m.task(), t -> new CopyOnWriteArrayList<>())
                .add(m.version()));
        client.start();
        sampler = new Thread(this::sample, "loss-" + name + "-probe");
        sampler.setDaemon(true);
        sampler.start();
        producer = new Thread(() -> stream(lines, ratePerSecond), "loss-" + name + "-producer");
        producer.setDaemon(true);
        producer.start();
    }

    /**
     * Starts the services on the cluster and a producer that sends {@code examples} (task to count,
     * from the bundled data sets, shuffled) at {@code ratePerSecond}, the tasks interleaved: the first
     * {@code warmup} of them, then, after {@link #release()}, the rest. So a test breaks the cluster at
     * a known point of the stream, whatever the machine's speed.
     */
    static WholeLoop start(BrokerCluster cluster, String name, Map<String, Integer> examples, int warmup,
                           int ratePerSecond) throws Exception {
        return new WholeLoop(cluster, name, examples, warmup, ratePerSecond);
    }

    /** Lets the producer send the examples after the warm-up. */
    void release() {
        released.countDown();
    }

    /** When the producer sent its first example, on the clock of {@link #now()}. */
    long streamStartedAt() {
        return streamStartedAt;
    }

    /** Milliseconds since the loop started, the clock of {@link Sample#atMs()}. */
    long now() {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private void stream(Map<String, List<Datasets.Line>> lines, int ratePerSecond) {
        List<Map.Entry<String, Datasets.Line>> order = new ArrayList<>();
        int longest = lines.values().stream().mapToInt(List::size).max().orElse(0);
        for (int i = 0; i < longest; i++) {
            for (var e : lines.entrySet()) {
                if (i < e.getValue().size()) {
                    order.add(Map.entry(e.getKey(), e.getValue().get(i)));
                }
            }
        }
        try (ExampleProducer p = new ExampleProducer(clientProps, topics)) {
            long start = System.nanoTime();
            streamStartedAt = now();
            for (int i = 0; i < order.size() && running; i++) {
                if (i == warmup) {
                    while (running && !released.await(100, TimeUnit.MILLISECONDS)) {
                        // the test releases the rest once it is ready to break the cluster
                    }
                    start = System.nanoTime() - (long) (i * 1e9 / ratePerSecond);
                }
                long due = start + (long) (i * 1e9 / ratePerSecond);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                p.send(order.get(i).getKey(), order.get(i).getValue(), (metadata, error) -> {
                    if (error == null) {
                        acked.incrementAndGet();
                    } else {
                        sendErrors.add(error);
                    }
                });
            }
            p.flush();
        } catch (RuntimeException e) {
            producerFailure = e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            streamed.countDown();
        }
    }

    private void sample() {
        while (running) {
            pipeline.healths().forEach(h -> {
                if (!h.status().live()) {
                    notLiveMs.computeIfAbsent(h.stage(), k -> new AtomicLong()).addAndGet(100);
                }
            });
            samples.add(new Sample(now(), acked.get(), committed(), learned(),
                    ids.keySet().stream().mapToLong(t -> watcher.decisions(t).size()).sum(),
                    clientVersions.values().stream().mapToLong(List::size).sum()));
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Examples whose features the extractor has committed. */
    long committed() {
        Counter c = meters.find("headwater.extractor.examples").counter();
        return c == null ? 0 : (long) c.count();
    }

    /** Examples the trainer's heads have learned (counted as processed, before their commit). */
    long learned() {
        Collection<Counter> c = meters.find("headwater.trainer.examples").counters();
        return (long) c.stream().mapToDouble(Counter::count).sum();
    }

    /** Stream threads replaced after a failure, by stage (0 when none). */
    Map<String, Long> threadsReplaced() {
        Map<String, Long> m = new java.util.TreeMap<>();
        meters.find("headwater.streams.threads.replaced").counters()
                .forEach(c -> m.put(c.getId().getTag("stage"), (long) c.count()));
        return m;
    }

    long produced() {
        return ids.values().stream().mapToLong(Set::size).sum();
    }

    /**
     * Fails the test when a service has stopped: a broker outage must never stop one. (Waiting for
     * the brokers is not stopping, though a long wait makes a stage's health say "stuck".)
     */
    void assertServicesUp() {
        if (died.isDone()) {
            throw new AssertionError("a service of " + name + " stopped while brokers were lost: "
                    + died.getNow(null) + "; health " + health(), died.getNow(null));
        }
    }

    /** Each stage's health now, e.g. {@code extractor=live, trainer=stuck: ...}. */
    String health() {
        return pipeline.healths().stream().map(h -> h.stage() + "=" + h.status().detail())
                .collect(Collectors.joining(", "));
    }

    /** Waits, with the services up, until {@code condition} holds. */
    void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertServicesUp();
            assertThat(System.nanoTime()).as(what + " within " + timeout).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Sleeps, with the services up. */
    void hold(Duration d) throws InterruptedException {
        long until = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < until) {
            assertServicesUp();
            Thread.sleep(100);
        }
    }

    /** Until the warm-up examples are acknowledged and every task has a published version. */
    void awaitFirstVersions(Duration timeout) throws InterruptedException {
        await("the warm-up acknowledged and a first version of every task", timeout, () -> acked.get() >= warmup
                && ids.keySet().stream().allMatch(t -> watcher.latest(t).isPresent()));
    }

    /**
     * Until the extractor has committed at least {@code examples} more than it had at {@code fromMs}:
     * the cluster accepts transactional writes again.
     */
    void awaitCommitsAfter(long fromMs, long examples, Duration timeout) throws InterruptedException {
        long base = valueAt(Sample::committed, fromMs);
        await("the extractor committing again", timeout, () -> committed() >= base + examples);
    }

    /** Until the producer has sent everything and every send is acknowledged. */
    void awaitStreamed(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!streamed.await(100, TimeUnit.MILLISECONDS)) {
            assertServicesUp();
            assertThat(System.nanoTime()).as("every example acknowledged within " + timeout).isLessThan(deadline);
        }
        if (producerFailure != null) {
            throw producerFailure;
        }
        assertThat(sendErrors).as("sends that failed for good").isEmpty();
        assertThat(acked.get()).isEqualTo(produced());
    }

    /** Until the registry has decided on a candidate of each task that learned every example. */
    void awaitLearned(Duration timeout) throws InterruptedException {
        await("a candidate that learned every example, for every task", timeout, () -> ids.entrySet().stream()
                .allMatch(e -> watcher.decidedOn(e.getKey(), HEAD, e.getValue().size())));
        await("the client serving every task's newest version", Duration.ofSeconds(60), () -> ids.keySet().stream()
                .allMatch(t -> client.current(t).map(m -> m.version()).orElse(0L)
                        >= watcher.latest(t).map(ModelUpdate::version).orElse(Long.MAX_VALUE)));
    }

    /** The value of a stage's counter at the last sample at or before {@code atMs}. */
    long valueAt(ToLongFunction<Sample> series, long atMs) {
        long v = 0;
        for (Sample s : samples) {
            if (s.atMs() > atMs) {
                break;
            }
            v = series.applyAsLong(s);
        }
        return v;
    }

    /** How much a stage's counter grew between two moments. */
    long progressBetween(ToLongFunction<Sample> series, long fromMs, long toMs) {
        return valueAt(series, toMs) - valueAt(series, fromMs);
    }

    /**
     * The longest time a stage's counter did not grow, from {@code fromMs} to its last growth: the
     * stall a broker loss at {@code fromMs} caused, to the resolution of the probe (100 ms).
     */
    long longestStall(ToLongFunction<Sample> series, long fromMs) {
        long previous = valueAt(series, fromMs);
        long lastGrowth = fromMs;
        long longest = 0;
        for (Sample s : samples) {
            if (s.atMs() <= fromMs) {
                continue;
            }
            long v = series.applyAsLong(s);
            if (v > previous) {
                longest = Math.max(longest, s.atMs() - lastGrowth);
                lastGrowth = s.atMs();
                previous = v;
            }
        }
        return longest;
    }

    Stall stallAfter(long fromMs) {
        return new Stall(longestStall(Sample::acked, fromMs), longestStall(Sample::committed, fromMs),
                longestStall(Sample::learned, fromMs), longestStall(Sample::decided, fromMs),
                longestStall(Sample::served, fromMs));
    }

    /**
     * The node leading the most partitions of all topics (internal ones included), and that count,
     * with the active controller, for the report.
     */
    Leader busiestBroker() throws ExecutionException, InterruptedException {
        try (Admin admin = Admin.create(clientProps)) {
            Set<String> names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
            Map<Integer, Integer> led = new HashMap<>();
            int partitions = 0;
            for (TopicDescription d : admin.describeTopics(names).allTopicNames().get().values()) {
                for (TopicPartitionInfo p : d.partitions()) {
                    partitions++;
                    if (p.leader() != null) {
                        led.merge(p.leader().id(), 1, Integer::sum);
                    }
                }
            }
            var busiest = led.entrySet().stream().max(Map.Entry.<Integer, Integer>comparingByValue()
                    .thenComparing(Map.Entry.comparingByKey(java.util.Comparator.reverseOrder()))).orElseThrow();
            int controller = admin.describeMetadataQuorum().quorumInfo().get().leaderId();
            return new Leader(busiest.getKey(), busiest.getValue(), partitions, controller, led);
        }
    }

    /** Who leads what: {@code node} leads {@code led} of {@code partitions}. */
    record Leader(int node, int led, int partitions, int activeController, Map<Integer, Integer> leadersByNode) {
        @Override
        public String toString() {
            return "node " + node + " (leader of " + led + " of " + partitions + " partitions"
                    + (node == activeController ? ", the active controller" : "") + "; leaders by node "
                    + leadersByNode + ")";
        }
    }

    /**
     * Every produced example learned exactly once, versions numbered without gaps, the client saw
     * every version: the whole-loop assertion of every broker-loss run.
     */
    void assertEveryExampleLearnedExactlyOnce() {
        // features, read_committed: each example once
        Map<String, List<String>> featureIds = new HashMap<>();
        for (ConsumerRecord<String, FeatureRecord> r : TopicReader.readAll(clientProps, topics.features().name(),
                new StringDeserializer(), topics.features().valueSerde().deserializer())) {
            featureIds.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value().exampleId());
        }
        Map<String, List<ModelDecision>> history = new HashMap<>();
        for (ConsumerRecord<String, ModelDecision> r : TopicReader.readAll(clientProps, topics.modelHistory().name(),
                new StringDeserializer(), topics.modelHistory().valueSerde().deserializer())) {
            history.computeIfAbsent(r.value().task(), t -> new ArrayList<>()).add(r.value());
        }
        for (var e : ids.entrySet()) {
            String task = e.getKey();
            int n = e.getValue().size();
            assertThat(featureIds.get(task)).as("committed features of " + task + ": each example exactly once")
                    .hasSize(n).containsExactlyInAnyOrderElementsOf(e.getValue());
            // the head's last candidate learned every example once; counts only grow
            List<ModelDecision> decisions = watcher.decisions(task).stream()
                    .filter(d -> d.candidate() != null && HEAD.equals(d.candidate().headType())).toList();
            assertThat(decisions).as("decisions on " + task).isNotEmpty();
            assertThat(decisions.get(decisions.size() - 1).candidate().metrics().examplesLearned())
                    .as("examples the last " + HEAD + " candidate of " + task + " learned").isEqualTo(n);
            assertThat(decisions).extracting(d -> d.candidate().metrics().examplesLearned()).isSorted()
                    .allSatisfy(c -> assertThat(c).isLessThanOrEqualTo((long) n));
            // versions 1..v on model-updates, the same in model-history, decisions 1..d
            List<Long> versions = watcher.updates(task).stream().map(ModelUpdate::version).toList();
            List<Long> oneToV = LongStream.rangeClosed(1, versions.size()).boxed().toList();
            assertThat(versions).as("versions of " + task + " on model-updates").isNotEmpty()
                    .containsExactlyElementsOf(oneToV);
            assertThat(watcher.latest(task).orElseThrow().metrics().examplesLearned()).isLessThanOrEqualTo(n);
            List<ModelDecision> recorded = history.get(task);
            assertThat(recorded).extracting(ModelDecision::sequence).as("decisions of " + task + " in model-history")
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, recorded.size()).boxed().toList());
            assertThat(recorded).filteredOn(d -> d.version() > 0).extracting(ModelDecision::version)
                    .as("published versions in the history of " + task).containsExactlyElementsOf(oneToV);
            // the subscribed client swapped to every version, in order
            assertThat(clientVersions.get(task)).as("versions the client served for " + task)
                    .containsExactlyElementsOf(oneToV);
        }
    }

    /**
     * Headwater's topics and its Streams services' internal topics have three replicas and a
     * topic-level min.insync.replicas of 2 (set by Headwater, not a broker default), and so do the
     * broker's offsets and transaction topics.
     */
    void assertReplicatedAsInProduction() throws ExecutionException, InterruptedException {
        try (Admin admin = Admin.create(clientProps)) {
            Set<String> all = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
            List<String> ours = topics.all().stream().map(io.headwater.kafka.Topic::name).toList();
            List<String> internal = all.stream().filter(t -> t.startsWith("loss-" + name + "-")).sorted().toList();
            assertThat(all).as("Headwater's topics").containsAll(ours);
            assertThat(internal).as("the trainer's and registry's internal topics")
                    .anyMatch(t -> t.startsWith(props.get(TrainerConfig.APPLICATION_ID)))
                    .anyMatch(t -> t.startsWith(props.get(RegistryConfig.APPLICATION_ID)));
            List<String> checked = new ArrayList<>(ours);
            checked.addAll(internal);
            for (TopicDescription d : admin.describeTopics(checked).allTopicNames().get().values()) {
                assertThat(d.partitions()).as(d.name() + " replicas")
                        .allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
            }
            List<ConfigResource> resources = checked.stream()
                    .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
            for (Map.Entry<ConfigResource, Config> c : admin.describeConfigs(resources).all().get().entrySet()) {
                ConfigEntry minIsr = c.getValue().get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
                assertThat(minIsr.value()).as(c.getKey().name() + " min.insync.replicas").isEqualTo("2");
                assertThat(minIsr.source()).as(c.getKey().name() + " min.insync.replicas is the topic's own")
                        .isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
            }
            for (String brokerTopic : List.of(org.apache.kafka.common.internals.Topic.GROUP_METADATA_TOPIC_NAME,
                    org.apache.kafka.common.internals.Topic.TRANSACTION_STATE_TOPIC_NAME)) {
                assertThat(admin.describeTopics(List.of(brokerTopic)).allTopicNames().get().get(brokerTopic).partitions())
                        .as(brokerTopic + " replicas").allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
            }
        }
    }

    /** Appends a line to {@code target/broker-loss.txt} and the log: the figures the README quotes. */
    static void report(String line) {
        LOG.info(line);
        try {
            Path out = Path.of("target", "broker-loss.txt");
            Files.createDirectories(out.getParent());
            Files.writeString(out, line + System.lineSeparator(), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            LOG.warn("Could not write the report: {}", e.toString());
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            producer.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sampler.interrupt();
        client.close();
        watcher.close();
        pipeline.close();
    }
}
