package io.headwater.extractor;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.Embedder;
import io.headwater.backbone.ImageBackbone;
import io.headwater.backbone.InvalidImage;
import io.headwater.core.FatalException;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.Example;
import io.headwater.kafka.ExampleParser;
import io.headwater.kafka.Faults;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.KafkaErrors;
import io.headwater.kafka.LoopHealth;
import io.headwater.kafka.RepeatedWarnings;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns labeled examples into features: a transactional consume-transform-produce loop. Each poll
 * is validated, embedded by the backbone in length-sorted batches, and written to {@code features}
 * (or {@code examples.dlq} with a reason) in one transaction together with the consumed offsets, so
 * a crash anywhere re-processes the poll and downstream {@code read_committed} readers see each
 * example exactly once.
 *
 * <p>Failures are answered as {@link KafkaErrors} classifies them. A transactional call that timed
 * out is called again (the producer accepts nothing else). An abortable error aborts the
 * transaction, rewinds to the batch's first offsets and retries after a capped exponential backoff;
 * a record the broker refuses (too large, invalid) is dead-lettered on the retry instead of being
 * sent again, and an example the backbone fails on is dead-lettered with reason {@code backbone}.
 * A fatal error (fenced, not authorized, a broken backbone) stops the loop: it is logged once with
 * its cause, {@link #health()} turns dead and {@link LoopHealth#failure()} completes, so the
 * launcher exits non-zero for its supervisor to restart it.
 *
 * <pre>{@code
 * try (Backbone backbone = Backbone.load(config.backboneSpec());
 *      Extractor extractor = new Extractor(config, backbone, registry)) {
 *     new Thread(extractor).start();
 *     extractor.health().failure().thenAccept(cause -> System.exit(1));
 * }
 * }</pre>
 */
public final class Extractor implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Extractor.class);
    private static final Duration POLL = Duration.ofMillis(200);
    /** Every dead-letter reason, registered up front so each series exists from the start. */
    static final List<String> DLQ_REASONS = Stream.concat(
            Stream.of("empty", "json", "schema", "key", "vector", "kind", "backbone", "produce"),
            InvalidImage.KINDS.stream()).toList();
    /** A dead letter written again because the broker refused the first one is cut to at most this. */
    static final int REFUSED_DLQ_MAX_BYTES = 64 * 1024;
    static final long BACKOFF_MIN_MS = 100;
    static final long BACKOFF_MAX_MS = 10_000;
    /** A text the backbone embeds whenever it works: when it fails too, the backbone is broken, not the example. */
    static final String PROBE_TEXT = "The backbone works.";

    private final ExtractorConfig config;
    private final Backbone backbone;
    /** Which lane (backbone) takes each task; used on the consumer thread only. */
    private final Routing routing;
    private final List<Lane> lanes;
    private final Counter imagesEmbedded;
    private final Topics topics;
    private final MeterRegistry registry;
    private final Counter examplesIn;
    private final Counter featuresOut;
    private final Counter transactionsAborted;
    private final Counter callsRetried;
    private final Timer backboneTime;
    private final Timer commitTime;
    private final DistributionSummary batchSize;
    private final Optional<EmbeddingCache> cache;
    private final Counter cacheHits;
    private final Counter textsEmbedded;
    private final Counter vectorsGiven;
    private final Map<String, Counter> deadLetters = new ConcurrentHashMap<>();
    private final LoopHealth health;
    private final RepeatedWarnings warnings = new RepeatedWarnings(LOG, "headwater_extractor_dlq_total");
    private final RepeatedWarnings kafkaWarnings = new RepeatedWarnings(LOG,
            "headwater_extractor_transactions_aborted_total and headwater_extractor_calls_retried_total");
    /**
     * Records whose output the broker refused (topic, partition, offset to the reason): on their next
     * reading they are dead-lettered, cut small, instead of sent again.
     */
    private final Map<String, String> refused = new ConcurrentHashMap<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile int dlqMaxBytes = Topics.DLQ_MAX_BYTES;
    private volatile boolean running = true;
    private volatile boolean started;
    private List<KafkaClientMetrics> clientMetrics = List.of();
    private volatile KafkaConsumer<byte[], byte[]> consumer;

    public Extractor(ExtractorConfig config, Backbone backbone, MeterRegistry registry) {
        this(config, backbone, Optional.empty(), registry);
    }

    /**
     * An extractor that embeds the tasks matching {@code backbone.image.tasks} with
     * {@code imageBackbone} and every other task with {@code backbone}, from one examples topic.
     *
     * @throws io.headwater.core.ConfigException if an image backbone is given without
     *     {@code backbone.image.tasks}, or {@code backbone.image.tasks} is set without one, or
     *     {@code backbones} names any backbone (load them with {@link Backbones#load})
     */
    public Extractor(ExtractorConfig config, Backbone backbone, Optional<ImageBackbone> imageBackbone,
            MeterRegistry registry) {
        this(config, Backbones.of(backbone, imageBackbone), registry);
    }

    /**
     * An extractor that routes each task to the first named backbone of {@code backbones} whose
     * {@code backbone.<name>.tasks} match it, else to the image backbone if
     * {@code backbone.image.tasks} matches it, else to the default text backbone, from one
     * examples topic. The caller keeps ownership of {@code backbones}.
     *
     * @throws io.headwater.core.ConfigException if {@code backbones} does not hold exactly the
     *     backbones the config names
     */
    public Extractor(ExtractorConfig config, Backbones backbones, MeterRegistry registry) {
        this.config = config;
        this.backbone = backbones.text();
        Optional<ImageBackbone> imageBackbone = backbones.image();
        Optional<Pattern> imageTasks = config.imageTasks();
        if (imageTasks.isPresent() != imageBackbone.isPresent()) {
            throw new io.headwater.core.ConfigException(imageTasks.isPresent()
                    ? ExtractorConfig.IMAGE_TASKS + "=" + imageTasks.get() + " needs an image backbone, and none was loaded"
                    : "an image backbone was given but " + ExtractorConfig.IMAGE_TASKS + " is empty: no task would use it");
        }
        List<NamedBackbone> named = config.namedBackbones();
        List<String> names = named.stream().map(NamedBackbone::name).toList();
        if (!names.equals(List.copyOf(backbones.named().keySet()))) {
            throw new io.headwater.core.ConfigException(ExtractorConfig.BACKBONES + "=" + String.join(",", names)
                    + " but the backbones loaded are named " + backbones.named().keySet()
                    + ": load them with Backbones.load(config)");
        }
        for (NamedBackbone n : named) {
            Embedder b = backbones.named().get(n.name());
            if (n.isImage() != (b instanceof ImageBackbone)) {
                throw new io.headwater.core.ConfigException(ExtractorConfig.namedKey(n.name(), ExtractorConfig.NAMED_KIND)
                        + "=" + (n.isImage() ? "image" : "text") + " but backbone " + b.id()
                        + " loaded for it is not of that kind");
            }
        }
        this.cache = config.cacheDir().map(dir -> EmbeddingCache.open(dir, cacheNamespace(backbone)));
        List<Lane> rules = new ArrayList<>();
        for (Backbones.Route r : backbones.routes(config)) {
            // Image backbones have no cache; a named text backbone has its own namespace of it.
            Optional<EmbeddingCache> laneCache = r.images() ? Optional.empty()
                    : cache.map(c -> c.namespace(cacheNamespace((Backbone) r.backbone())));
            rules.add(new Lane(rules.size(), r.name(), r.backbone(), r.images(), r.tasksKey(), Optional.of(r.tasks()),
                    laneCache));
        }
        this.routing = new Routing(rules, new Lane(rules.size(), Lane.DEFAULT, backbone, false, "", Optional.empty(),
                cache));
        this.lanes = routing.lanes();
        this.imagesEmbedded = Counter.builder("headwater.extractor.backbone.images")
                .description("Images run through the image backbone").register(registry);
        this.topics = Topics.withPrefix(config.topicPrefix());
        this.registry = registry;
        this.health = new LoopHealth("extractor", config.raw().getLong(HeadwaterConfigs.HEALTH_STALL_TIMEOUT_MS),
                registry);
        this.examplesIn = Counter.builder("headwater.extractor.examples").description("Examples consumed")
                .baseUnit("examples").register(registry);
        this.featuresOut = Counter.builder("headwater.extractor.features").description("Feature records written")
                .baseUnit("records").register(registry);
        this.transactionsAborted = Counter.builder("headwater.extractor.transactions.aborted")
                .description("Transactions aborted and retried").register(registry);
        this.callsRetried = Counter.builder("headwater.extractor.calls.retried")
                .description("Transactional calls (commit, abort, send offsets, init) retried after a timeout")
                .register(registry);
        this.backboneTime = Timer.builder("headwater.extractor.backbone.latency")
                .description("Time to embed one poll's texts").publishPercentileHistogram().register(registry);
        this.commitTime = Timer.builder("headwater.extractor.commit.latency")
                .description("Time to write one batch and commit its transaction").publishPercentileHistogram()
                .register(registry);
        this.cacheHits = Counter.builder("headwater.extractor.cache.hits")
                .description("Texts whose embedding came from the cache, not the backbone").register(registry);
        this.textsEmbedded = Counter.builder("headwater.extractor.backbone.texts")
                .description("Texts run through the backbone").register(registry);
        this.vectorsGiven = Counter.builder("headwater.extractor.vectors")
                .description("Examples that carried their own vector").register(registry);
        this.batchSize = DistributionSummary.builder("headwater.extractor.batch.size")
                .description("Valid examples per transaction").baseUnit("examples").publishPercentileHistogram()
                .maximumExpectedValue(4096.0).register(registry);
        DLQ_REASONS.forEach(this::deadLetterCounter);
        io.micrometer.core.instrument.Gauge.builder("headwater.extractor.backbone.calls", backbone, Backbone::calls)
                .description("ONNX Runtime session runs").register(registry);
        for (Lane lane : lanes) {
            io.micrometer.core.instrument.Gauge.builder("headwater.extractor.backbone.info", () -> 1)
                    .description("Each backbone in use and where it runs (value always 1)")
                    .tags("name", lane.name(), "backbone", lane.backbone().id(),
                            "sha256", lane.backbone().sha256().substring(0, 12), "provider", lane.backbone().provider(),
                            "execution", !lane.images() && lane.text().rowByRow() ? "row-by-row" : "batches")
                    .register(registry);
        }
    }

    /**
     * What makes a text backbone's vector: its graph and token limit, and for a model file its
     * pooling too (a bundled model's graph fixes its pooling; a file can be pooled either way).
     * The default bundled backbone's namespace is what it has always been, so its cache stays warm.
     */
    static String cacheNamespace(Backbone b) {
        return b.sha256() + "/" + b.spec().maxTokens()
                + (b.spec().userModel().isPresent() ? "/" + b.pooling().name().toLowerCase(java.util.Locale.ROOT) : "");
    }

    private Counter deadLetterCounter(String reason) {
        return deadLetters.computeIfAbsent(reason, r -> Counter.builder("headwater.extractor.dlq")
                .description("Examples sent to the dead-letter topic").tag("reason", r).register(registry));
    }

    /** Live while the loop runs and makes progress; ready once it has its partitions. */
    public LoopHealth health() {
        return health;
    }

    /** False once the loop has stopped on an error or is stuck. */
    public boolean healthy() {
        return health.status().live();
    }

    /** Creates the topics the extractor reads and writes where they are missing. */
    public static void ensureTopics(ExtractorConfig config) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        io.headwater.kafka.KafkaAccess.check(config.clientProperties());
        try (Admin admin = Admin.create(config.clientProperties())) {
            Topics.ensure(admin, List.of(topics.examples(), topics.examplesDlq(), topics.features()),
                    config.topicSettings());
        }
    }

    @Override
    public void run() {
        started = true;
        health.started();
        String transactionalId = config.transactionalId();
        Map<String, Object> consumerProps = new HashMap<>(config.clientProperties());
        // Static membership under the same stable id: a restarted instance takes its partitions
        // back at once instead of waiting out its predecessor's session timeout.
        consumerProps.putIfAbsent(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, transactionalId);
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.batchMaxRecords());
        // A fetch per partition large enough to fill a batch of vector examples (about 4 KB each).
        consumerProps.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
        Map<String, Object> producerProps = new HashMap<>(config.clientProperties());
        producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        // A transaction carries hundreds of 1.6 KB feature records: batches of 16 KB (the client's
        // default) make it dozens of produce requests. Kept within the topics' limits below.
        producerProps.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        // Right after a commit the coordinator may still be writing its markers and answers the next
        // transaction's first send with CONCURRENT_TRANSACTIONS; at the client's 100 ms backoff that
        // was most of every commit (155 ms of 160 measured). Backoff still grows to retry.backoff.max.ms.
        producerProps.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
        sizeToTopics(producerProps);
        ExecutorService embedder = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "headwater-extractor-embed");
            t.setDaemon(true);
            return t;
        });
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(),
                     new ByteArraySerializer())) {
            this.consumer = c;
            // Consumer lag, fetch and send rates, as Micrometer names them (kafka_consumer_*, kafka_producer_*).
            clientMetrics = List.of(new KafkaClientMetrics(c), new KafkaClientMetrics(producer));
            clientMetrics.forEach(m -> m.bindTo(registry));
            retryOnTimeout("initTransactions", producer::initTransactions);
            Pipeline pipeline = new Pipeline(c, producer, embedder);
            c.subscribe(List.of(topics.examples().name()), pipeline);
            LOG.info("Extractor reading {} with backbone {} (sha256 {}); dead letters up to {} bytes",
                    topics.examples().name(), backbone.id(), backbone.sha256(), dlqMaxBytes);
            for (Lane lane : lanes) {
                if (lane.tasks().isPresent()) {
                    LOG.info("Tasks matching {} are {}, embedded by {} (sha256 {})", lane.rule(),
                            lane.images() ? "images" : "texts", lane.backbone().id(), lane.backbone().sha256());
                }
            }
            while (running) {
                pipeline.step();
            }
            pipeline.drain();
            health.stopped();
        } catch (WakeupException | InterruptException e) {
            if (running) {
                fail(e);
            } else {
                health.stopped();
            }
        } catch (RuntimeException | Error e) {
            // The loop's thread ends here whatever ended it; health must say so, or a dead loop looks alive.
            if (running) {
                fail(e);
                if (e instanceof Error error) {
                    throw error;
                }
            } else {
                LOG.info("Extractor stopped while {}", KafkaErrors.describe(e));
                health.stopped();
            }
        } finally {
            clientMetrics.forEach(KafkaClientMetrics::close);
            embedder.shutdownNow();
            stopped.countDown();
        }
    }

    private void fail(Throwable e) {
        LOG.error("Extractor stopped: {}", KafkaErrors.describe(e), e);
        health.failed(e);
    }

    /**
     * Sizes what the producer writes to the topics' record limits as the cluster has them. Dead
     * letters are cut to fit both {@code examples.dlq}'s {@code max.message.bytes} and the
     * producer's {@code max.request.size}. Batches are kept within the smaller of the two topics'
     * limits: a batch over a topic's limit is split by the producer and sent again, and when its
     * records still fit {@code batch.size} together it would be refused and split again until
     * {@code delivery.timeout.ms}; within the limit, only a record too large on its own is refused,
     * at once, and that record is dead-lettered.
     */
    private void sizeToTopics(Map<String, Object> producerProps) {
        int request = Integer.parseInt(String.valueOf(producerProps.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                1_048_576)));
        int featuresMax;
        try (Admin admin = Admin.create(config.clientProperties())) {
            dlqMaxBytes = Math.min(request, Topics.maxMessageBytes(admin, topics.examplesDlq()));
            featuresMax = Topics.maxMessageBytes(admin, topics.features());
        }
        int batch = Integer.parseInt(String.valueOf(producerProps.getOrDefault(ProducerConfig.BATCH_SIZE_CONFIG, 16_384)));
        producerProps.put(ProducerConfig.BATCH_SIZE_CONFIG, Math.max(1, Math.min(batch,
                Math.min(featuresMax, dlqMaxBytes) - DeadLetters.FRAMING_BYTES)));
    }

    /**
     * Runs a transactional call, calling it again while it times out: after a timeout the request
     * may still complete, and the producer accepts only the same call ("timed out and must be
     * retried"). Gives up only when the extractor is stopping.
     */
    private void retryOnTimeout(String call, Runnable r) {
        while (true) {
            try {
                r.run();
                kafkaWarnings.reset(call);
                return;
            } catch (TimeoutException e) {
                callsRetried.increment();
                kafkaWarnings.warn(call, "{} timed out; calling it again: {}", call, KafkaErrors.describe(e));
                if (!running) {
                    throw e;
                }
            }
        }
    }

    /** Consumed records and the output the embedder is computing for them. */
    private record Batch(List<Parsed> records, Future<List<Output>> output) {

        Map<TopicPartition, OffsetAndMetadata> nextOffsets() {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (Parsed p : records) {
                ConsumerRecord<byte[], byte[]> r = p.record();
                offsets.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                        (a, b) -> a.offset() >= b.offset() ? a : b);
            }
            return offsets;
        }

        Map<TopicPartition, Long> firstOffsets() {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            for (Parsed p : records) {
                ConsumerRecord<byte[], byte[]> r = p.record();
                offsets.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
            }
            return offsets;
        }
    }

    /** A record to write and the consumed record it comes from. */
    record Output(ConsumerRecord<byte[], byte[]> source, ProducerRecord<byte[], byte[]> record) {
    }

    /**
     * Two batches in flight: while one is embedded on the embedder thread, the next one fills from
     * polls; a batch is written and committed in its own transaction as soon as its embedding is
     * done. A batch is ready when it holds {@code batch.max.records} examples or its first example
     * has waited {@code batch.max.wait.ms}.
     */
    private final class Pipeline implements ConsumerRebalanceListener {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final KafkaProducer<byte[], byte[]> producer;
        private final ExecutorService embedder;
        private List<Parsed> filling = new ArrayList<>();
        /** Examples in {@link #filling} that need a backbone (texts and images). */
        private int fillingTexts;
        private long fillingSince;
        private Batch inFlight;
        private long backoffMs;
        private Set<TopicPartition> assigned = Set.of();

        Pipeline(KafkaConsumer<byte[], byte[]> consumer, KafkaProducer<byte[], byte[]> producer,
                 ExecutorService embedder) {
            this.consumer = consumer;
            this.producer = producer;
            this.embedder = embedder;
        }

        void step() {
            boolean idle = inFlight == null && filling.isEmpty();
            if (!full()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(idle ? POLL : Duration.ofMillis(5));
                if (filling.isEmpty() && !records.isEmpty()) {
                    fillingSince = System.currentTimeMillis();
                }
                records.forEach(r -> {
                    Parsed p = parse(r);
                    filling.add(p);
                    if (p.needsBackbone()) {
                        fillingTexts++;
                    }
                });
                health.lag(lag());
            }
            boolean full = full();
            boolean ready = !filling.isEmpty()
                    && (full || System.currentTimeMillis() - fillingSince >= config.batchMaxWaitMs());
            if (inFlight != null && (inFlight.output().isDone() || full)) {
                // Hand the embedder its next batch before committing this one, so it never waits on Kafka.
                Batch done = inFlight;
                inFlight = ready ? submit() : null;
                commit(done);
            } else if (inFlight == null && ready) {
                inFlight = submit();
            }
        }

        /** At batch.max.records texts and images, or batch.max.vectors examples in all. */
        private boolean full() {
            return fillingTexts >= config.batchMaxRecords() || filling.size() >= config.batchMaxVectors();
        }

        /** Records waiting on this instance's partitions, as of the last fetch; -1 when not known yet. */
        private long lag() {
            long sum = 0;
            boolean known = false;
            for (TopicPartition tp : assigned) {
                OptionalLong l = consumer.currentLag(tp);
                if (l.isPresent()) {
                    sum += l.getAsLong();
                    known = true;
                }
            }
            // What this instance holds in memory is waiting too.
            sum += filling.size() + (inFlight == null ? 0 : inFlight.records().size());
            return known || sum > 0 ? sum : -1;
        }

        private Batch submit() {
            List<Parsed> records = filling;
            filling = new ArrayList<>();
            fillingTexts = 0;
            return new Batch(records, embedder.submit(() -> transform(records)));
        }

        /** On a clean stop: commit what is in flight. */
        void drain() {
            if (inFlight != null) {
                commit(inFlight);
                inFlight = null;
            }
        }

        private void commit(Batch batch) {
            List<Output> out;
            try {
                out = batch.output().get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException re ? re
                        : new FatalException("Embedding a batch failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FatalException("Interrupted while embedding a batch", e);
            }
            Map<Integer, Exception> sendErrors = new ConcurrentHashMap<>();
            long commitStart = System.nanoTime();
            try {
                producer.beginTransaction();
                for (int i = 0; i < out.size(); i++) {
                    int index = i;
                    producer.send(out.get(i).record(), (metadata, error) -> {
                        if (error != null) {
                            sendErrors.put(index, error);
                        }
                    });
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = batch.nextOffsets();
                retryOnTimeout("sendOffsetsToTransaction",
                        () -> producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata()));
                Faults.hit("extractor.commit");
                retryOnTimeout("commitTransaction", producer::commitTransaction);
            } catch (InterruptException e) {
                throw e;
            } catch (KafkaException e) {
                // A timeout that escapes here is a send() that waited max.block.ms for metadata (abort
                // and retry), or a retried call given up because the extractor is stopping.
                if (!running || KafkaErrors.classify(e) == KafkaErrors.Kind.FATAL) {
                    throw e;
                }
                abort(batch, out, sendErrors, e);
                return;
            }
            commitTime.record(System.nanoTime() - commitStart, TimeUnit.NANOSECONDS);
            examplesIn.increment(batch.records().size());
            health.progressed();
            backoffMs = 0;
            kafkaWarnings.reset("abort");
        }

        /**
         * Aborts the transaction and rewinds: this batch, the one behind it and what is filling are
         * dropped and read again, after a backoff that doubles with each abort in a row. Records the
         * broker refused are remembered, to be dead-lettered on their next reading.
         */
        private void abort(Batch batch, List<Output> out, Map<Integer, Exception> sendErrors, KafkaException e) {
            transactionsAborted.increment();
            backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoffMs * 2));
            kafkaWarnings.warn("abort", "Aborting transaction of {} examples and re-reading them in {} ms: {}",
                    batch.records().size(), backoffMs, KafkaErrors.describe(e));
            try {
                retryOnTimeout("abortTransaction", producer::abortTransaction);
            } catch (KafkaException abortFailed) {
                // An abort that fails for anything but a timeout leaves the producer unusable.
                abortFailed.addSuppressed(e);
                throw new FatalException("Failed to abort a transaction after " + KafkaErrors.describe(e),
                        abortFailed);
            }
            sendErrors.forEach((index, error) -> {
                if (KafkaErrors.isRecordError(error)) {
                    ConsumerRecord<byte[], byte[]> src = out.get(index).source();
                    refused.put(id(src), error.getClass().getSimpleName() + ": " + error.getMessage());
                    warnings.warn("refused", "The broker refused the output of {}; it will be dead-lettered: {}",
                            id(src), KafkaErrors.describe(error));
                }
            });
            List<Parsed> unwritten = new ArrayList<>(batch.records());
            if (inFlight != null && inFlight != batch) {
                inFlight.output().cancel(true);
                unwritten.addAll(inFlight.records());
            }
            inFlight = null;
            unwritten.addAll(filling);
            filling = new ArrayList<>();
            fillingTexts = 0;
            new Batch(unwritten, null).firstOffsets().forEach((tp, offset) -> {
                if (assigned.contains(tp)) {
                    consumer.seek(tp, offset);
                }
            });
            try {
                Thread.sleep(backoffMs);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new FatalException("Interrupted while backing off", ie);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            health.assigned(false);
            // Commit while the partitions are still ours; what was read but not embedded yet is
            // read again by their next owner.
            if (inFlight != null) {
                Batch b = inFlight;
                inFlight = null;
                commit(b);
            }
            filling.removeIf(p -> partitions.contains(new TopicPartition(p.record().topic(), p.record().partition())));
            fillingTexts = (int) filling.stream().filter(Parsed::needsBackbone).count();
            Set<TopicPartition> left = new HashSet<>(assigned);
            left.removeAll(partitions);
            assigned = Set.copyOf(left);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            // Positions come from the group's committed offsets.
            Set<TopicPartition> now = new HashSet<>(assigned);
            now.addAll(partitions);
            assigned = Set.copyOf(now);
            health.assigned(true);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            health.assigned(false);
            // The group moved on without us: nothing uncommitted may be written any more.
            if (inFlight != null) {
                inFlight.output().cancel(true);
                inFlight = null;
            }
            filling.clear();
            fillingTexts = 0;
            Set<TopicPartition> left = new HashSet<>(assigned);
            left.removeAll(partitions);
            assigned = Set.copyOf(left);
        }
    }

    private static String id(ConsumerRecord<?, ?> r) {
        return r.topic() + "-" + r.partition() + "@" + r.offset();
    }

    /**
     * One consumed record, parsed and validated: either an example and the lane (backbone) its task
     * is routed to, or its dead letter. An image example carries its decoded, normalised input tensor.
     */
    record Parsed(ConsumerRecord<byte[], byte[]> record, Optional<Example> example,
                  Optional<ProducerRecord<byte[], byte[]>> deadLetter, Optional<float[]> tensor, Optional<Lane> lane) {
        Parsed(ConsumerRecord<byte[], byte[]> record, Optional<ProducerRecord<byte[], byte[]>> deadLetter) {
            this(record, Optional.empty(), deadLetter, Optional.empty(), Optional.empty());
        }

        /** A valid example a backbone must embed (a text or an image; not a vector of its own). */
        boolean needsBackbone() {
            return example.filter(e -> !(e.input() instanceof Example.Vector)).isPresent();
        }
    }

    /** Parses and validates one record; done as records arrive, while the previous batch embeds. */
    Parsed parse(ConsumerRecord<byte[], byte[]> r) {
        String refusal = refused.remove(id(r));
        if (refusal != null) {
            return deadLetter(r, "produce", "the broker refused this example's output: " + refusal,
                    Math.min(dlqMaxBytes, REFUSED_DLQ_MAX_BYTES));
        }
        try {
            // An empty key is no key: the task comes from the value.
            Optional<String> key = Optional.ofNullable(r.key()).filter(k -> k.length > 0)
                    .map(k -> new String(k, StandardCharsets.UTF_8));
            Example e = ExampleParser.instance().parse(key, r.value());
            Lane lane = routing.route(e.task());
            Embedder b = lane.backbone();
            if (e.input() instanceof Example.Vector v && v.values().length != b.dimension()) {
                throw new ExampleParser.InvalidExample("vector", "vector has " + v.values().length
                        + " values but backbone " + b.id() + " gives " + b.dimension());
            }
            Optional<String> mismatch = routing.mismatch(e.task(), lane, e.input());
            if (mismatch.isPresent()) {
                throw new ExampleParser.InvalidExample("kind", mismatch.get());
            }
            Optional<float[]> tensor = e.input() instanceof Example.Image image
                    ? Optional.of(lane.image().preprocessor().tensor(image.bytes())) : Optional.empty();
            return new Parsed(r, Optional.of(e), Optional.empty(), tensor, Optional.of(lane));
        } catch (ExampleParser.InvalidExample e) {
            return deadLetter(r, e.kind(), e.getMessage(), dlqMaxBytes);
        } catch (InvalidImage e) {
            return deadLetter(r, e.kind(), e.getMessage(), dlqMaxBytes);
        }
    }

    private Parsed deadLetter(ConsumerRecord<byte[], byte[]> r, String kind, String reason, int maxBytes) {
        warnings.warn(kind, "Dead-lettering {} ({}): {}", id(r), kind, reason);
        deadLetterCounter(kind).increment();
        return new Parsed(r, Optional.of(DeadLetters.of(topics.examplesDlq(), r, kind, reason, maxBytes)));
    }

    /** The records a batch writes: features for valid examples, dead letters for the rest. */
    List<Output> transform(List<Parsed> batch) {
        Faults.hit("extractor.embed");
        List<Output> out = new ArrayList<>(batch.size());
        List<Parsed> valid = new ArrayList<>();
        for (Parsed p : batch) {
            p.deadLetter().ifPresent(d -> out.add(new Output(p.record(), d)));
            if (p.example().isPresent()) {
                valid.add(p);
            }
        }
        float[][] vectors = embed(valid);
        var serializer = topics.features().valueSerde().serializer();
        int written = 0;
        for (int i = 0; i < valid.size(); i++) {
            Parsed p = valid.get(i);
            Example e = p.example().orElseThrow();
            ConsumerRecord<byte[], byte[]> src = p.record();
            if (vectors[i] == null) {
                out.add(new Output(src, deadLetter(src, "backbone", "the backbone failed on this example's "
                        + (e.input() instanceof Example.Image ? "image" : "text"), dlqMaxBytes).deadLetter().orElseThrow()));
                continue;
            }
            // The backbone that really embedded it (or whose width a given vector was checked against).
            Embedder b = p.lane().orElseThrow().backbone();
            FeatureRecord f = new FeatureRecord(e.id(), e.label(), b.id(), b.sha256(),
                    e.eventTimeMs(), src.topic(), src.partition(), src.offset(), vectors[i]);
            out.add(new Output(src, new ProducerRecord<>(topics.features().name(),
                    e.task().getBytes(StandardCharsets.UTF_8), serializer.serialize(topics.features().name(), f))));
            written++;
        }
        featuresOut.increment(written);
        if (written > 0) {
            batchSize.record(written);
        }
        return out;
    }

    /**
     * One vector per example: given ones as they are, cached ones from their lane's cache, and the
     * rest (each distinct text once) from one call of their lane's backbone. A null vector is an
     * example the backbone failed on.
     */
    @SuppressWarnings("unchecked")
    private float[][] embed(List<Parsed> examples) {
        float[][] vectors = new float[examples.size()][];
        // Per lane, by its index: texts to embed (each to the examples that carry it), images to embed.
        Map<String, List<Integer>>[] missing = new Map[lanes.size()];
        List<Integer>[] images = new List[lanes.size()];
        for (int i = 0; i < examples.size(); i++) {
            Parsed p = examples.get(i);
            Example.Input input = p.example().orElseThrow().input();
            Lane lane = p.lane().orElseThrow();
            if (p.tensor().isPresent()) {
                if (images[lane.index()] == null) {
                    images[lane.index()] = new ArrayList<>();
                }
                images[lane.index()].add(i);
            } else if (input instanceof Example.Vector v) {
                vectors[i] = v.values();
                vectorsGiven.increment();
            } else if (input instanceof Example.Text t) {
                Optional<float[]> hit = lane.cache().flatMap(c -> c.get(t.text()));
                if (hit.isPresent()) {
                    vectors[i] = hit.get();
                    cacheHits.increment();
                } else {
                    if (missing[lane.index()] == null) {
                        missing[lane.index()] = new LinkedHashMap<>();
                    }
                    missing[lane.index()].computeIfAbsent(t.text(), k -> new ArrayList<>()).add(i);
                }
            }
        }
        for (Lane lane : lanes) {
            Map<String, List<Integer>> texts = missing[lane.index()];
            if (texts != null) {
                List<String> batch = new ArrayList<>(texts.keySet());
                float[][] computed = backboneTime.record(() -> embedIsolated(lane.text(), batch));
                for (int j = 0; j < batch.size(); j++) {
                    float[] v = computed[j];
                    if (v == null) {
                        continue;
                    }
                    String text = batch.get(j);
                    lane.cache().ifPresent(c -> c.put(text, v));
                    texts.get(text).forEach(i -> vectors[i] = v);
                }
                textsEmbedded.increment(batch.size());
            }
            List<Integer> imageIndexes = images[lane.index()];
            if (imageIndexes != null) {
                List<float[]> batch = imageIndexes.stream().map(i -> examples.get(i).tensor().orElseThrow()).toList();
                float[][] computed = backboneTime.record(() -> embedImagesIsolated(lane.image(), batch));
                for (int j = 0; j < imageIndexes.size(); j++) {
                    vectors[imageIndexes.get(j)] = computed[j];
                }
                imagesEmbedded.increment(imageIndexes.size());
            }
        }
        return vectors;
    }

    /**
     * Embeds the texts in one call; if that fails, one by one, leaving null for each text the
     * backbone fails on. If it fails on a probe text too, the backbone itself is broken: fatal.
     */
    private float[][] embedIsolated(Backbone b, List<String> texts) {
        return isolated(texts, PROBE_TEXT, "backbone", "text", b.id(), batch -> {
            Faults.hit("extractor.backbone");
            return b.embed(batch);
        });
    }

    /** As {@link #embedIsolated} for image tensors; the probe is a blank image. */
    private float[][] embedImagesIsolated(ImageBackbone b, List<float[]> tensors) {
        return isolated(tensors, new float[b.input().size()], "image backbone", "image", b.id(), batch -> {
            Faults.hit("extractor.backbone");
            return b.embed(batch);
        });
    }

    /**
     * {@code call} on all inputs; if that fails, on each alone, leaving null for each input it fails
     * on. If it fails on {@code probe} too, the backbone itself is broken: fatal.
     */
    private <T> float[][] isolated(List<T> inputs, T probe, String backboneName, String what, String id,
            java.util.function.Function<List<T>, float[][]> call) {
        try {
            return call.apply(inputs);
        } catch (RuntimeException batchError) {
            // The boundary of a native library: whatever it throws for one input must not stop the stream.
            warnings.warn(backboneName + " batch", "The " + backboneName + " failed on a batch of {} " + what
                    + "s; embedding them one by one: {}", inputs.size(), KafkaErrors.describe(batchError));
            try {
                call.apply(List.of(probe));
            } catch (RuntimeException probeError) {
                probeError.addSuppressed(batchError);
                throw new FatalException("The " + backboneName + " " + id + " fails on every " + what, probeError);
            }
            float[][] out = new float[inputs.size()][];
            for (int i = 0; i < inputs.size(); i++) {
                try {
                    out[i] = call.apply(List.of(inputs.get(i)))[0];
                } catch (RuntimeException e) {
                    LOG.debug("The {} failed on one {}: {}", backboneName, what, KafkaErrors.describe(e));
                }
            }
            return out;
        }
    }

    /** Stops the loop after the current transaction and waits for it. */
    @Override
    public void close() {
        running = false;
        if (!started) {
            cache.ifPresent(EmbeddingCache::close);
            return;
        }
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            if (!stopped.await(30, TimeUnit.SECONDS)) {
                LOG.warn("Extractor did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cache.ifPresent(EmbeddingCache::close);
    }
}
