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
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
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
        this.batchSize = DistributionSummary.builder("headwater.extractor.poll.size")
                .description("Valid examples per transaction").baseUnit("examples").register(registry);
        io.micrometer.core.instrument.Gauge.builder("headwater.extractor.backbone.calls", backbone, Backbone::calls)
                .description("ONNX Runtime session runs").register(registry);
    }

    /** False once the loop has stopped on an error. */
    public boolean healthy() {
        return healthy;
    }

    /** Creates the topics the extractor reads and writes where they are missing. */
    public static void ensureTopics(ExtractorConfig config) {
        Topics topics = Topics.withPrefix(config.topicPrefix());
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
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxPollRecords());
        Map<String, Object> producerProps = new HashMap<>(config.clientProperties());
        producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        producerProps.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(),
                     new ByteArraySerializer())) {
            this.consumer = c;
            producer.initTransactions();
            c.subscribe(List.of(topics.examples().name()));
            LOG.info("Extractor reading {} with backbone {} (sha256 {})", topics.examples().name(), backbone.id(),
                    backbone.sha256());
            while (running) {
                ConsumerRecords<byte[], byte[]> records = c.poll(POLL);
                if (!records.isEmpty()) {
                    processInTransaction(c, producer, records);
                }
            }
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
            stopped.countDown();
        }
    }

    private void processInTransaction(KafkaConsumer<byte[], byte[]> c, KafkaProducer<byte[], byte[]> producer,
                                      ConsumerRecords<byte[], byte[]> records) {
        producer.beginTransaction();
        try {
            List<ProducerRecord<byte[], byte[]>> out = transform(records);
            out.forEach(producer::send);
            producer.sendOffsetsToTransaction(nextOffsets(records), c.groupMetadata());
            if (++transactions == HALT_BEFORE_COMMIT) {
                producer.flush();
                LOG.error("Halting before committing transaction {} ({} set)", transactions, HALT_BEFORE_COMMIT_PROPERTY);
                Runtime.getRuntime().halt(99);
            }
            producer.commitTransaction();
            examplesIn.increment(records.count());
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("Aborting transaction of {} examples and re-reading them: {}", records.count(), e.toString());
            transactionsAborted.increment();
            producer.abortTransaction();
            rewind(c, records);
        }
    }

    /** The records this poll writes: features for valid examples, dead letters for the rest. */
    List<ProducerRecord<byte[], byte[]>> transform(ConsumerRecords<byte[], byte[]> records) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(records.count());
        List<ConsumerRecord<byte[], byte[]>> valid = new ArrayList<>();
        List<Example> examples = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            try {
                Optional<String> key = Optional.ofNullable(r.key()).map(k -> new String(k, StandardCharsets.UTF_8));
                Example e = ExampleParser.instance().parse(key, r.value());
                if (e.input() instanceof Example.Vector v && v.values().length != backbone.dimension()) {
                    throw new ExampleParser.InvalidExample("vector", "vector has " + v.values().length
                            + " values but backbone " + backbone.id() + " gives " + backbone.dimension());
                }
                examples.add(e);
                valid.add(r);
            } catch (ExampleParser.InvalidExample e) {
                LOG.debug("Dead-lettering {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
                Counter.builder("headwater.extractor.dlq").description("Examples sent to the dead-letter topic")
                        .tag("reason", e.kind()).register(registry).increment();
                out.add(DeadLetters.of(topics.examplesDlq(), r, e.kind(), e.getMessage()));
            }
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

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> rs = records.records(tp);
            offsets.put(tp, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
        }
        return offsets;
    }

    private static void rewind(KafkaConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition tp : records.partitions()) {
            c.seek(tp, records.records(tp).get(0).offset());
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
