package io.headwater.extractor;

import io.headwater.backbone.Backbone;
import io.headwater.core.FatalException;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.Example;
import io.headwater.kafka.ExampleParser;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
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
 * <pre>{@code
 * try (Backbone backbone = Backbone.load(config.backboneSpec());
 *      Extractor extractor = new Extractor(config, backbone, registry)) {
 *     new Thread(extractor).start();
 * }
 * }</pre>
 */
public final class Extractor implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Extractor.class);
    private static final Duration POLL = Duration.ofMillis(200);
    /**
     * Fault injection for the crash test: when set to N, the JVM halts in the N-th transaction after
     * its records reached the broker and before the commit, as a crash there would.
     */
    static final String HALT_BEFORE_COMMIT_PROPERTY = "headwater.extractor.halt.before.commit";
    private static final long HALT_BEFORE_COMMIT = Long.getLong(HALT_BEFORE_COMMIT_PROPERTY, -1);

    private final ExtractorConfig config;
    private final Backbone backbone;
    private final Topics topics;
    private final MeterRegistry registry;
    private final Counter examplesIn;
    private final Counter featuresOut;
    private final Counter transactionsAborted;
    private final Timer backboneTime;
    private final DistributionSummary batchSize;
    private final Optional<EmbeddingCache> cache;
    private final Counter cacheHits;
    private final Counter textsEmbedded;
    private final Counter vectorsGiven;
    private long transactions;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean started;
    private List<KafkaClientMetrics> clientMetrics = List.of();
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile boolean healthy = true;

    public Extractor(ExtractorConfig config, Backbone backbone, MeterRegistry registry) {
        this.config = config;
        this.backbone = backbone;
        this.topics = Topics.withPrefix(config.topicPrefix());
        this.registry = registry;
        this.examplesIn = Counter.builder("headwater.extractor.examples").description("Examples consumed")
                .baseUnit("examples").register(registry);
        this.featuresOut = Counter.builder("headwater.extractor.features").description("Feature records written")
                .baseUnit("records").register(registry);
        this.transactionsAborted = Counter.builder("headwater.extractor.transactions.aborted")
                .description("Transactions aborted and retried").register(registry);
        this.backboneTime = Timer.builder("headwater.extractor.backbone.latency")
                .description("Time to embed one poll's texts").publishPercentileHistogram().register(registry);
        this.cache = config.cacheDir().map(dir -> EmbeddingCache.open(dir,
                backbone.sha256() + "/" + backbone.spec().maxTokens()));
        this.cacheHits = Counter.builder("headwater.extractor.cache.hits")
                .description("Texts whose embedding came from the cache, not the backbone").register(registry);
        this.textsEmbedded = Counter.builder("headwater.extractor.backbone.texts")
                .description("Texts run through the backbone").register(registry);
        this.vectorsGiven = Counter.builder("headwater.extractor.vectors")
                .description("Examples that carried their own vector").register(registry);
        this.batchSize = DistributionSummary.builder("headwater.extractor.batch.size")
                .description("Valid examples per transaction").baseUnit("examples").publishPercentileHistogram()
                .maximumExpectedValue(4096.0).register(registry);
        io.micrometer.core.instrument.Gauge.builder("headwater.extractor.backbone.calls", backbone, Backbone::calls)
                .description("ONNX Runtime session runs").register(registry);
        io.micrometer.core.instrument.Gauge.builder("headwater.extractor.backbone.info", () -> 1)
                .description("The backbone in use and where it runs (value always 1)")
                .tags("backbone", backbone.id(), "sha256", backbone.sha256().substring(0, 12),
                        "provider", backbone.provider(), "execution", backbone.rowByRow() ? "row-by-row" : "batches")
                .register(registry);
    }

    /** False once the loop has stopped on an error. */
    public boolean healthy() {
        return healthy;
    }

    /** Creates the topics the extractor reads and writes where they are missing. */
    public static void ensureTopics(ExtractorConfig config) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
        io.headwater.kafka.KafkaAccess.check(config.clientProperties());
        try (Admin admin = Admin.create(config.clientProperties())) {
            Topics.ensure(admin, List.of(topics.examples(), topics.examplesDlq(), topics.features()),
                    config.raw().getInt(HeadwaterConfigs.TOPIC_PARTITIONS),
                    config.raw().getShort(HeadwaterConfigs.TOPIC_REPLICATION_FACTOR));
        }
    }

    @Override
    public void run() {
        started = true;
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
        Map<String, Object> producerProps = new HashMap<>(config.clientProperties());
        producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
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
            producer.initTransactions();
            Pipeline pipeline = new Pipeline(c, producer, embedder);
            c.subscribe(List.of(topics.examples().name()), pipeline);
            LOG.info("Extractor reading {} with backbone {} (sha256 {})", topics.examples().name(), backbone.id(),
                    backbone.sha256());
            while (running) {
                pipeline.step();
            }
            pipeline.drain();
        } catch (WakeupException e) {
            if (running) {
                healthy = false;
                throw e;
            }
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            healthy = false;
            LOG.error("Extractor stopped: {}", e.toString());
            throw new FatalException("Extractor cannot go on: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            healthy = false;
            LOG.error("Extractor stopped", e);
            throw e;
        } finally {
            clientMetrics.forEach(KafkaClientMetrics::close);
            embedder.shutdownNow();
            stopped.countDown();
        }
    }

    /** Consumed records and the output the embedder is computing for them. */
    private record Batch(List<Parsed> records, Future<List<ProducerRecord<byte[], byte[]>>> output) {

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
        private long fillingSince;
        private Batch inFlight;

        Pipeline(KafkaConsumer<byte[], byte[]> consumer, KafkaProducer<byte[], byte[]> producer,
                 ExecutorService embedder) {
            this.consumer = consumer;
            this.producer = producer;
            this.embedder = embedder;
        }

        void step() {
            boolean idle = inFlight == null && filling.isEmpty();
            if (filling.size() < config.batchMaxRecords()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(idle ? POLL : Duration.ofMillis(5));
                if (filling.isEmpty() && !records.isEmpty()) {
                    fillingSince = System.currentTimeMillis();
                }
                records.forEach(r -> filling.add(parse(r)));
            }
            boolean full = filling.size() >= config.batchMaxRecords();
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

        private Batch submit() {
            List<Parsed> records = filling;
            filling = new ArrayList<>();
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
            List<ProducerRecord<byte[], byte[]>> out;
            try {
                out = batch.output().get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException re ? re
                        : new FatalException("Embedding a batch failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FatalException("Interrupted while embedding a batch", e);
            }
            producer.beginTransaction();
            try {
                out.forEach(producer::send);
                producer.sendOffsetsToTransaction(batch.nextOffsets(), consumer.groupMetadata());
                if (++transactions == HALT_BEFORE_COMMIT) {
                    producer.flush();
                    LOG.error("Halting before committing transaction {} ({} set)", transactions,
                            HALT_BEFORE_COMMIT_PROPERTY);
                    Runtime.getRuntime().halt(99);
                }
                producer.commitTransaction();
                examplesIn.increment(batch.records().size());
            } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
                throw e;
            } catch (KafkaException e) {
                LOG.warn("Aborting transaction of {} examples and re-reading them: {}", batch.records().size(),
                        e.toString());
                transactionsAborted.increment();
                producer.abortTransaction();
                // This batch, the one behind it and what is filling are all dropped and read again.
                List<Parsed> unwritten = new ArrayList<>(batch.records());
                if (inFlight != null && inFlight != batch) {
                    inFlight.output().cancel(true);
                    unwritten.addAll(inFlight.records());
                }
                inFlight = null;
                unwritten.addAll(filling);
                filling = new ArrayList<>();
                new Batch(unwritten, null).firstOffsets().forEach((tp, offset) -> {
                    if (consumer.assignment().contains(tp)) {
                        consumer.seek(tp, offset);
                    }
                });
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Commit while the partitions are still ours; what was read but not embedded yet is
            // read again by their next owner.
            if (inFlight != null) {
                commit(inFlight);
                inFlight = null;
            }
            filling.removeIf(p -> partitions.contains(new TopicPartition(p.record().topic(), p.record().partition())));
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            // Positions come from the group's committed offsets.
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // The group moved on without us: nothing uncommitted may be written any more.
            if (inFlight != null) {
                inFlight.output().cancel(true);
                inFlight = null;
            }
            filling.clear();
        }
    }

    /** One consumed record, parsed and validated: either an example or its dead letter. */
    record Parsed(ConsumerRecord<byte[], byte[]> record, Optional<Example> example,
                  Optional<ProducerRecord<byte[], byte[]>> deadLetter) {
    }

    /** Parses and validates one record; done as records arrive, while the previous batch embeds. */
    Parsed parse(ConsumerRecord<byte[], byte[]> r) {
        try {
            Optional<String> key = Optional.ofNullable(r.key()).map(k -> new String(k, StandardCharsets.UTF_8));
            Example e = ExampleParser.instance().parse(key, r.value());
            if (e.input() instanceof Example.Vector v && v.values().length != backbone.dimension()) {
                throw new ExampleParser.InvalidExample("vector", "vector has " + v.values().length
                        + " values but backbone " + backbone.id() + " gives " + backbone.dimension());
            }
            return new Parsed(r, Optional.of(e), Optional.empty());
        } catch (ExampleParser.InvalidExample e) {
            LOG.debug("Dead-lettering {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            Counter.builder("headwater.extractor.dlq").description("Examples sent to the dead-letter topic")
                    .tag("reason", e.kind()).register(registry).increment();
            return new Parsed(r, Optional.empty(),
                    Optional.of(DeadLetters.of(topics.examplesDlq(), r, e.kind(), e.getMessage())));
        }
    }

    /** The records a batch writes: features for valid examples, dead letters for the rest. */
    List<ProducerRecord<byte[], byte[]>> transform(List<Parsed> batch) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(batch.size());
        List<ConsumerRecord<byte[], byte[]>> valid = new ArrayList<>();
        List<Example> examples = new ArrayList<>();
        for (Parsed p : batch) {
            p.deadLetter().ifPresent(out::add);
            p.example().ifPresent(e -> {
                examples.add(e);
                valid.add(p.record());
            });
        }
        float[][] vectors = embed(examples);
        var serializer = topics.features().valueSerde().serializer();
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            ConsumerRecord<byte[], byte[]> src = valid.get(i);
            FeatureRecord f = new FeatureRecord(e.id(), e.label(), backbone.id(), backbone.sha256(),
                    e.eventTimeMs(), src.topic(), src.partition(), src.offset(), vectors[i]);
            out.add(new ProducerRecord<>(topics.features().name(), e.task().getBytes(StandardCharsets.UTF_8),
                    serializer.serialize(topics.features().name(), f)));
        }
        featuresOut.increment(examples.size());
        if (!examples.isEmpty()) {
            batchSize.record(examples.size());
        }
        return out;
    }

    /**
     * One vector per example: given ones as they are, cached ones from the cache, and the rest
     * (each distinct text once) from one backbone call.
     */
    private float[][] embed(List<Example> examples) {
        float[][] vectors = new float[examples.size()][];
        Map<String, List<Integer>> missing = new LinkedHashMap<>();
        for (int i = 0; i < examples.size(); i++) {
            Example.Input input = examples.get(i).input();
            if (input instanceof Example.Vector v) {
                vectors[i] = v.values();
                vectorsGiven.increment();
            } else if (input instanceof Example.Text t) {
                Optional<float[]> hit = cache.flatMap(c -> c.get(t.text()));
                if (hit.isPresent()) {
                    vectors[i] = hit.get();
                    cacheHits.increment();
                } else {
                    missing.computeIfAbsent(t.text(), k -> new ArrayList<>()).add(i);
                }
            }
        }
        if (!missing.isEmpty()) {
            List<String> texts = new ArrayList<>(missing.keySet());
            float[][] computed = backboneTime.record(() -> backbone.embed(texts));
            for (int j = 0; j < texts.size(); j++) {
                float[] v = computed[j];
                String text = texts.get(j);
                cache.ifPresent(c -> c.put(text, v));
                missing.get(text).forEach(i -> vectors[i] = v);
            }
            textsEmbedded.increment(texts.size());
        }
        return vectors;
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
