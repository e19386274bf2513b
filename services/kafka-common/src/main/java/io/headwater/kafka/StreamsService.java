package io.headwater.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka Streams service as Headwater runs them: topics it needs created when missing,
 * {@code exactly_once_v2}, a deliberate commit interval, static membership, Kafka Streams metrics
 * bound to the registry, and failures answered by what they are ({@link KafkaErrors}): a thread that
 * died of an error a new thread can get past is replaced (at most {@link #MAX_REPLACEMENTS} times in
 * {@link #REPLACEMENT_WINDOW}); a fatal error, or one that keeps coming back, shuts the client down,
 * which {@link #failure()} reports so the process can exit non-zero and be restarted. Records a
 * processor cannot use are the processor's business (its dead-letter topic), never a thread's death.
 *
 * <pre>{@code
 * StreamsService s = StreamsService.start("trainer", admin -> {
 *     Topics.ensure(admin, topicsNeeded, partitions, replicationFactor);
 *     return topology;
 * }, config.raw(), streamsProps, registry);
 * s.failure().thenAccept(cause -> System.exit(1));
 * }</pre>
 */
public final class StreamsService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamsService.class);
    /** Thread replacements allowed within {@link #REPLACEMENT_WINDOW} before a failure counts as fatal. */
    static final int MAX_REPLACEMENTS = 3;
    static final Duration REPLACEMENT_WINDOW = Duration.ofMinutes(10);

    private final String name;
    private final KafkaStreams streams;
    private final KafkaStreamsMetrics metrics;
    private final Health health;
    private final CompletableFuture<Throwable> failure;
    private volatile boolean closing;

    private StreamsService(String name, KafkaStreams streams, KafkaStreamsMetrics metrics, Health health,
                           CompletableFuture<Throwable> failure) {
        this.name = name;
        this.streams = streams;
        this.metrics = metrics;
        this.health = health;
        this.failure = failure;
    }

    /**
     * @param name        the stage, for logs and health ({@code trainer}, {@code registry})
     * @param prepare     given an admin client that reached the cluster with these settings: create
     *                    the topics the service needs and build what it runs (sized to the cluster)
     * @param config      the service's parsed config (common keys and pass-through client keys)
     * @param overrides   the service's own Streams settings (application id, commit interval, state
     *                    dir, and {@code group.instance.id} for static membership)
     */
    public static StreamsService start(String name, java.util.function.Function<Admin, Topology> prepare,
                                       AbstractConfig config, Map<String, Object> overrides, MeterRegistry registry) {
        Map<String, Object> clientProps = HeadwaterConfigs.clientProperties(config);
        // One admin client for the access check, the topics and later the health samples.
        Admin admin = KafkaAccess.open(clientProps);
        Topology topology;
        Properties props = streamsProperties(clientProps, overrides);
        try {
            topology = prepare.apply(admin);
            // Changelogs and repartition topics replicated like Headwater's own, unless set explicitly.
            TopicSettings.of(config).resolve(admin).streamsProperties().forEach(props::putIfAbsent);
            releaseOrphanedStaticMembers(name, admin, clientProps, overrides);
        } catch (RuntimeException e) {
            admin.close(Duration.ofSeconds(5));
            throw e;
        }
        KafkaStreams streams = new KafkaStreams(topology, props);
        KafkaStreamsMetrics metrics = new KafkaStreamsMetrics(streams);
        metrics.bindTo(registry);
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Health health = new Health(name, streams, admin,
                String.valueOf(overrides.get(StreamsConfig.APPLICATION_ID_CONFIG)),
                config.getLong(HeadwaterConfigs.HEALTH_STALL_TIMEOUT_MS), failure);
        StageHealth.bindGauges(health, registry);
        Counter replaced = Counter.builder("headwater.streams.threads.replaced")
                .description("Stream threads that died and were replaced").tag("stage", name).register(registry);
        Deque<Long> replacements = new ArrayDeque<>();
        streams.setUncaughtExceptionHandler(e -> {
            KafkaErrors.Kind kind = KafkaErrors.classify(e);
            long now = System.currentTimeMillis();
            synchronized (replacements) {
                while (!replacements.isEmpty() && now - replacements.peekFirst() > REPLACEMENT_WINDOW.toMillis()) {
                    replacements.removeFirst();
                }
                if (kind != KafkaErrors.Kind.FATAL && replacements.size() < MAX_REPLACEMENTS) {
                    replacements.addLast(now);
                    replaced.increment();
                    LOG.warn("{} stream thread failed ({}); replacing it: {}", name, kind, KafkaErrors.describe(e), e);
                    health.releaseStaticMember(overrides, Thread.currentThread().getName());
                    return StreamThreadExceptionResponse.REPLACE_THREAD;
                }
            }
            LOG.error("{} cannot go on: {}; shutting down{}", name, KafkaErrors.describe(e),
                    kind == KafkaErrors.Kind.FATAL ? "" : " (the same failure came back " + MAX_REPLACEMENTS
                            + " times in " + REPLACEMENT_WINDOW.toMinutes() + " minutes)", e);
            failure.complete(e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        StreamsService service = new StreamsService(name, streams, metrics, health, failure);
        streams.setStateListener((next, previous) -> {
            LOG.info("{} {} -> {}", name, previous, next);
            if (next == KafkaStreams.State.ERROR && !failure.isDone()) {
                failure.complete(new io.headwater.core.FatalException(name + " Kafka Streams client failed"));
            } else if (next == KafkaStreams.State.NOT_RUNNING && !service.closing && !failure.isDone()) {
                failure.complete(new io.headwater.core.FatalException(name + " Kafka Streams client stopped"));
            }
        });
        streams.setGlobalStateRestoreListener(health);
        streams.start();
        LOG.info("{} started ({}, instance {})", name, overrides.get(StreamsConfig.APPLICATION_ID_CONFIG),
                overrides.getOrDefault(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), "dynamic"));
        return service;
    }

    /**
     * A stream thread that replaced a failed one joined under the next thread index
     * ({@code <instance>-2}); after a restart this instance's threads are {@code -1} again, and that
     * static member would hold its tasks until its session times out. Remove members of this
     * instance beyond its thread count from the group before starting.
     */
    static void releaseOrphanedStaticMembers(String name, Admin admin, Map<String, Object> clientProps,
                                             Map<String, Object> overrides) {
        Object instance = overrides.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        if (instance == null) {
            return;
        }
        String group = String.valueOf(overrides.get(StreamsConfig.APPLICATION_ID_CONFIG));
        int threads = Integer.parseInt(String.valueOf(overrides.getOrDefault(StreamsConfig.NUM_STREAM_THREADS_CONFIG,
                clientProps.getOrDefault(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1))));
        java.util.regex.Pattern mine = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(instance.toString())
                + "-(\\d+)");
        try {
            var description = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(10, java.util.concurrent.TimeUnit.SECONDS);
            List<org.apache.kafka.clients.admin.MemberToRemove> orphans = new java.util.ArrayList<>();
            for (var member : description.members()) {
                var id = member.groupInstanceId();
                if (id.isPresent()) {
                    var m = mine.matcher(id.get());
                    if (m.matches() && Integer.parseInt(m.group(1)) > threads) {
                        orphans.add(new org.apache.kafka.clients.admin.MemberToRemove(id.get()));
                    }
                }
            }
            if (!orphans.isEmpty()) {
                admin.removeMembersFromConsumerGroup(group,
                        new org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions(orphans)).all()
                        .get(10, java.util.concurrent.TimeUnit.SECONDS);
                LOG.info("{}: removed {} static members of replaced threads from group {}", name, orphans.size(), group);
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // A new group, or one that cannot be described now: their sessions will time out.
            LOG.debug("{}: no orphaned static members removed from group {}: {}", name, group, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Pass-through client keys, then the settings every Headwater Streams service has, then the service's own. */
    public static Properties streamsProperties(Map<String, Object> clientProps, Map<String, Object> overrides) {
        Properties p = new Properties();
        p.putAll(clientProps);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), Topics.MODEL_MAX_BYTES + 1024);
        // After a commit the coordinator may still be writing markers: the next transaction's first
        // send is answered CONCURRENT_TRANSACTIONS and retried after this backoff (the client's 100 ms
        // stalled every commit for most of it).
        if (!operatorSet(clientProps, ProducerConfig.RETRY_BACKOFF_MS_CONFIG, StreamsConfig.PRODUCER_PREFIX)) {
            p.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 10);
        }
        p.putAll(overrides);
        return p;
    }

    /**
     * Whether the operator set a client {@code key} plainly or under one of the Streams prefixes that
     * reach it ({@code consumer.}, {@code main.consumer.}, {@code producer.}, ...): a default of
     * Headwater's own, set under a prefix, would otherwise win over theirs.
     */
    public static boolean operatorSet(Map<String, Object> clientProps, String key, String... prefixes) {
        if (clientProps.containsKey(key)) {
            return true;
        }
        for (String prefix : prefixes) {
            if (clientProps.containsKey(prefix + key)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The {@code group.instance.id} of an instance's stream threads (Kafka Streams adds the thread
     * index): stable across restarts, so a restarted instance takes its tasks back at once instead of
     * waiting out its predecessor's session timeout.
     */
    public static Map<String, Object> staticMembership(String instanceId) {
        return Map.of(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instanceId);
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** Live while threads run and make progress (or have nothing to do); ready while RUNNING. */
    public StageHealth health() {
        return health;
    }

    /** True while running, rebalancing or starting, and not stuck. */
    public boolean healthy() {
        return health.status().live();
    }

    /** Completes with the cause when the client shuts down on an error; never on {@link #close()}. */
    public CompletableFuture<Throwable> failure() {
        return failure;
    }

    @Override
    public void close() {
        closing = true;
        if (!streams.close(Duration.ofSeconds(30))) {
            LOG.warn("{} did not stop within 30 s", name);
        }
        health.close();
        metrics.close();
    }

    /**
     * Health of a Kafka Streams client from its state and its progress. Progress is records
     * processed, records restored, or the group's committed input offsets moving. The input waiting
     * is measured as an operator's lag exporter does, from outside the stream threads (so a wedged
     * thread cannot hide it): for the partitions this instance's tasks read, the end offsets
     * ({@code read_committed}) minus the group's committed offsets, sampled every
     * {@link #SAMPLE_MS} by a daemon thread; when the broker cannot be asked, the last values stay.
     */
    static final class Health implements StageHealth, StateRestoreListener, AutoCloseable {
        static final long SAMPLE_MS = 2_000;
        private final String stage;
        private final KafkaStreams streams;
        private final Admin admin;
        private final String groupId;
        private final long stallTimeoutMs;
        private final CompletableFuture<Throwable> failure;
        private final java.util.concurrent.ScheduledExecutorService sampler;
        private double lastProcessed = -1;
        private long lastCommitted = -1;
        private volatile long lag;
        private volatile long lastProgressAt = System.currentTimeMillis();

        /** @param admin used for the samples, and closed with this */
        Health(String stage, KafkaStreams streams, Admin admin, String groupId,
               long stallTimeoutMs, CompletableFuture<Throwable> failure) {
            this.stage = stage;
            this.streams = streams;
            this.admin = admin;
            this.groupId = groupId;
            this.stallTimeoutMs = stallTimeoutMs;
            this.failure = failure;
            this.sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "headwater-" + stage + "-health");
                t.setDaemon(true);
                return t;
            });
            sampler.scheduleWithFixedDelay(this::sample, SAMPLE_MS, SAMPLE_MS,
                    java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        @Override
        public String stage() {
            return stage;
        }

        @Override
        public Status status() {
            KafkaStreams.State state = streams.state();
            if (failure.isDone() || state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR) {
                return Status.dead("stopped on an error (see the log)");
            }
            if (state == KafkaStreams.State.NOT_RUNNING || state == KafkaStreams.State.PENDING_SHUTDOWN) {
                return Status.dead("stopped");
            }
            long idle = System.currentTimeMillis() - lastProgressAt;
            long waiting = lag;
            if (waiting > 0 && idle > stallTimeoutMs) {
                return Status.dead(String.format(Locale.ROOT, "stuck: %d records waiting and no progress for %.0f s",
                        waiting, idle / 1000.0));
            }
            return Status.live(state == KafkaStreams.State.RUNNING, state.name().toLowerCase(Locale.ROOT));
        }

        /** One sample of progress and input waiting; failures to reach the broker leave the last values. */
        private synchronized void sample() {
            try {
                double processed = 0;
                for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
                    MetricName m = e.getKey();
                    if (m.name().equals("process-total") && m.group().equals("stream-thread-metrics")
                            && e.getValue().metricValue() instanceof Number n) {
                        processed += n.doubleValue();
                    }
                }
                if (processed != lastProcessed) {
                    lastProcessed = processed;
                    lastProgressAt = System.currentTimeMillis();
                }
                java.util.Set<TopicPartition> inputs = new java.util.HashSet<>();
                for (var thread : streams.metadataForLocalThreads()) {
                    thread.activeTasks().forEach(t -> inputs.addAll(t.topicPartitions()));
                }
                if (inputs.isEmpty()) {
                    lag = 0;
                    return;
                }
                var committed = admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata()
                        .get(5, java.util.concurrent.TimeUnit.SECONDS);
                Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
                inputs.forEach(tp -> latest.put(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()));
                var ends = admin.listOffsets(latest, new org.apache.kafka.clients.admin.ListOffsetsOptions(
                        org.apache.kafka.common.IsolationLevel.READ_COMMITTED)).all()
                        .get(5, java.util.concurrent.TimeUnit.SECONDS);
                long waiting = 0;
                long committedSum = 0;
                for (TopicPartition tp : inputs) {
                    var c = committed.get(tp);
                    long at = c == null ? 0 : c.offset();
                    committedSum += at;
                    var end = ends.get(tp);
                    waiting += end == null ? 0 : Math.max(0, end.offset() - at);
                }
                if (committedSum != lastCommitted) {
                    lastCommitted = committedSum;
                    lastProgressAt = System.currentTimeMillis();
                }
                lag = waiting;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                LOG.debug("{} health: cannot read offsets now: {}", stage, e.toString());
            } catch (RuntimeException e) {
                // The sampler's boundary: an exception here would end every later sample silently
                // (a client not started yet, a broker that cannot be asked): keep the last values.
                LOG.debug("{} health: cannot sample now: {}", stage, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /**
         * A replacement thread joins under a new static member id (Kafka Streams gives it the next
         * thread index), and the dead thread's static member would hold its tasks until its session
         * times out (45 s by default). Remove that member from the group, so its tasks move at once.
         */
        void releaseStaticMember(Map<String, Object> overrides, String deadThread) {
            Object instance = overrides.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
            int at = deadThread.lastIndexOf("-StreamThread-");
            if (instance == null || at < 0) {
                return;
            }
            String member = instance + "-" + deadThread.substring(at + "-StreamThread-".length());
            sampler.schedule(() -> {
                try {
                    admin.removeMembersFromConsumerGroup(groupId, new org.apache.kafka.clients.admin
                            .RemoveMembersFromConsumerGroupOptions(List.of(
                                    new org.apache.kafka.clients.admin.MemberToRemove(member)))).all()
                            .get(10, java.util.concurrent.TimeUnit.SECONDS);
                    LOG.info("{}: removed the failed thread's static member {} from group {}", stage, member, groupId);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
                         | RuntimeException e) {
                    // It may have left already; otherwise its session timeout moves its tasks.
                    LOG.info("{}: could not remove static member {} from group {}: {}", stage, member, groupId,
                            e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, 1, java.util.concurrent.TimeUnit.SECONDS);
        }

        @Override
        public void onRestoreStart(TopicPartition partition, String store, long startOffset, long endOffset) {
            lastProgressAt = System.currentTimeMillis();
        }

        @Override
        public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long restored) {
            lastProgressAt = System.currentTimeMillis();
        }

        @Override
        public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
            lastProgressAt = System.currentTimeMillis();
        }

        @Override
        public void close() {
            sampler.shutdownNow();
            admin.close(Duration.ofSeconds(5));
        }
    }
}
