package io.headwater.client;

import io.headwater.kafka.Faults;
import io.headwater.kafka.FollowedPositions;
import io.headwater.kafka.KafkaErrors;
import io.headwater.kafka.LoopHealth;
import io.headwater.kafka.Readers;
import io.headwater.kafka.RepeatedWarnings;
import io.headwater.backbone.Backbone;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.KafkaAccess;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code model-updates} and serves the newest verified head of every task it is asked for.
 * Each update is checked ({@link UpdateVerifier}: format, SHA-256 of the artifact, backbone, and the
 * signature when the client trusts signing keys) before
 * it replaces the current one; a refused update is logged and counted and the previous version
 * keeps serving. A swap replaces one immutable {@link LiveModel} reference, so a prediction always
 * uses exactly one version and says which. Starting late is fine: the topic is compacted and is read
 * from the beginning, so every task's current version arrives first.
 *
 * <p>A listener that throws is logged (once, then at DEBUG) and counted in
 * {@code headwater.client.listener.errors}; the client keeps following. If the follower thread
 * itself dies (an authorization error, say), {@link #health()} turns dead and its
 * {@link LoopHealth#failure()} completes: the models would be frozen from then on.
 *
 * <pre>{@code
 * try (ModelClient client = ModelClient.builder(clientProps, Topics.withPrefix("headwater."))
 *         .backbone(backbone).tasks(Pattern.compile("spam|fine-foods")).build().start()) {
 *     client.addListener(m -> log.info("now serving {} v{}", m.task(), m.version()));
 *     Optional<Prediction> p = client.predict("spam", "Cheap meds, no prescription!");
 * }
 * }</pre>
 */
public final class ModelClient implements AutoCloseable {
    /** Each client reads in a consumer group of its own, this plus a random suffix (an ACL names the prefix). */
    public static final String GROUP_PREFIX = "headwater-client-";
    private static final Logger LOG = LoggerFactory.getLogger(ModelClient.class);

    private final Map<String, Object> clientProps;
    private final Topics topics;
    private final Pattern tasks;
    private final Optional<Backbone> backbone;
    private final UpdateVerifier verifier;
    private final MeterRegistry registry;
    private final Map<String, LiveModel> live = new ConcurrentHashMap<>();
    private final List<Consumer<LiveModel>> listeners = new CopyOnWriteArrayList<>();
    private final Counter swaps;
    private final Counter listenerErrors;
    private final Timer freshness;
    private final LoopHealth health;
    private final RepeatedWarnings warnings = new RepeatedWarnings(LOG, "headwater_client_listener_errors_total");
    private volatile boolean running;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private FollowedPositions positions;
    private Thread thread;

    private ModelClient(Builder b) {
        this.clientProps = b.clientProps;
        this.topics = b.topics;
        this.tasks = b.tasks;
        this.backbone = b.backbone;
        this.registry = b.registry;
        BackboneRef expected = b.expected.orElseGet(() -> b.backbone
                .map(bb -> new BackboneRef(bb.id(), bb.sha256(), bb.dimension()))
                .orElseThrow(() -> new IllegalStateException("a ModelClient needs a backbone or an expected backbone")));
        this.verifier = new UpdateVerifier(expected, b.trusted);
        this.swaps = Counter.builder("headwater.client.swaps").description("Model versions swapped in")
                .register(registry);
        this.listenerErrors = Counter.builder("headwater.client.listener.errors")
                .description("Exceptions thrown by listeners of swapped-in versions (the client goes on)")
                .register(registry);
        this.health = new LoopHealth("model-client", b.stallTimeoutMs, registry);
        this.freshness = Timer.builder("headwater.client.swap.latency")
                .description("From a version's publication to this client serving it").publishPercentileHistogram()
                .register(registry);
        RefusedUpdateException.REASONS.forEach(this::refusedCounter);
    }

    public static Builder builder(Map<String, Object> clientProps, Topics topics) {
        return new Builder(clientProps, topics);
    }

    /**
     * Subscribes to model updates on a background thread, after one request that proves the cluster
     * answers and accepts the client's credentials (a {@code FatalException} says what failed).
     */
    public ModelClient start() {
        KafkaAccess.check(clientProps);
        consumer = new KafkaConsumer<>(Readers.fromStart(clientProps, GROUP_PREFIX), new StringDeserializer(),
                new ByteArrayDeserializer());
        positions = new FollowedPositions(consumer);
        consumer.subscribe(List.of(topics.modelUpdates().name()), positions);
        running = true;
        thread = new Thread(this::follow, "headwater-model-client");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    private void follow() {
        var deserializer = topics.modelUpdates().valueSerde().deserializer();
        health.started();
        try {
            while (running) {
                Faults.hit("client.poll");
                var records = consumer.poll(Duration.ofMillis(200));
                health.assigned(!consumer.assignment().isEmpty());
                long lag = records.count();
                for (var tp : consumer.assignment()) {
                    lag += consumer.currentLag(tp).orElse(0);
                }
                // Read before the updates are applied: a listener that blocks shows as a stuck client.
                health.lag(lag);
                for (ConsumerRecord<String, byte[]> r : records) {
                    if (!positions.isNew(r) || r.key() == null || !tasks.matcher(r.key()).matches() || r.value() == null) {
                        continue;
                    }
                    try {
                        offer(deserializer.deserialize(r.topic(), r.value()));
                    } catch (SerializationException e) {
                        refused("format", "unreadable model update at " + r.topic() + "-" + r.partition() + "@"
                                + r.offset() + ": " + e.getMessage());
                    }
                }
                health.progressed();
            }
            health.stopped();
        } catch (WakeupException e) {
            health.stopped();
        } catch (RuntimeException | Error e) {
            // Whatever ends the follower, health must say so: the models are frozen from here on.
            LOG.error("Model client stopped following {}: {}", topics.modelUpdates().name(), KafkaErrors.describe(e), e);
            health.failed(e);
            if (e instanceof Error error) {
                throw error;
            }
        } finally {
            consumer.close();
        }
    }

    /** Live while the follower thread runs; ready once it has the topic's partitions. */
    public LoopHealth health() {
        return health;
    }

    /**
     * Verifies an update and serves it if it is newer than the task's current version.
     *
     * @return true when it was swapped in
     */
    public boolean offer(ModelUpdate update) {
        Objects.requireNonNull(update, "update cannot be null");
        HeadArtifact head;
        try {
            head = verifier.verify(update);
        } catch (RefusedUpdateException e) {
            refused(e.reason(), e.getMessage());
            return false;
        } catch (RuntimeException e) {
            // An update nobody checked for (a foreign producer's): refused, never the follower's death.
            refused("format", "model update of task " + update.task() + " cannot be read: " + KafkaErrors.describe(e));
            return false;
        }
        LiveModel next = new LiveModel(update.task(), update.version(), head, update, System.currentTimeMillis());
        LiveModel now = live.merge(update.task(), next, (old, candidate) ->
                candidate.version() > old.version() ? candidate : old);
        if (now != next) {
            return false;
        }
        swaps.increment();
        publishedAt(update).ifPresent(t -> freshness.record(Duration.ofMillis(Math.max(0, next.appliedAt() - t))));
        for (Consumer<LiveModel> l : listeners) {
            try {
                l.accept(next);
            } catch (RuntimeException e) {
                // A listener's bug must not stop the follower: the next versions still have to arrive.
                listenerErrors.increment();
                warnings.warn(l.getClass().getName(), "A model listener failed on task {} version {}: {}",
                        next.task(), next.version(), KafkaErrors.describe(e), e);
            }
        }
        return true;
    }

    private static Optional<Long> publishedAt(ModelUpdate u) {
        try {
            return Optional.of(Instant.parse(u.createdAt()).toEpochMilli());
        } catch (DateTimeParseException | NullPointerException e) {
            return Optional.empty();
        }
    }

    private void refused(String reason, String message) {
        LOG.warn("Refused model update: {}", message);
        refusedCounter(reason).increment();
    }

    private Counter refusedCounter(String reason) {
        return Counter.builder("headwater.client.refused").description("Model updates refused").tag("reason", reason)
                .register(registry);
    }

    /** Called with each version swapped in, on the client's thread. */
    public void addListener(Consumer<LiveModel> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener cannot be null"));
    }

    /** The version a task is served with now. */
    public Optional<LiveModel> current(String task) {
        return Optional.ofNullable(live.get(task));
    }

    /** Tasks with a version. */
    public Set<String> tasks() {
        return Set.copyOf(live.keySet());
    }

    /** Predicts from an embedding; empty when the task has no version yet. */
    public Optional<Prediction> predict(String task, float[] embedding) {
        return Optional.ofNullable(live.get(task)).map(m -> predict(m, embedding));
    }

    private static Prediction predict(LiveModel m, float[] embedding) {
        float[] p = m.head().probabilities(embedding);
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return new Prediction(m.task(), m.head().labels().get(best), m.head().labels(), p, m.version());
    }

    /**
     * Predicts embeddings all with one version (the task's current one when the call starts); empty
     * when the task has no version yet.
     */
    public Optional<List<Prediction>> predict(String task, float[][] embeddings) {
        LiveModel m = live.get(task);
        if (m == null) {
            return Optional.empty();
        }
        List<Prediction> out = new java.util.ArrayList<>(embeddings.length);
        for (float[] v : embeddings) {
            out.add(predict(m, v));
        }
        return Optional.of(out);
    }

    /** Embeds the text with the client's backbone and predicts; empty when the task has no version yet. */
    public Optional<Prediction> predict(String task, String text) {
        return predict(task, List.of(text)).map(list -> list.get(0));
    }

    /**
     * Embeds the texts in one backbone call and predicts them all with one version (the task's
     * current one when the call starts); empty when the task has no version yet.
     */
    public Optional<List<Prediction>> predict(String task, List<String> texts) {
        Backbone b = backbone.orElseThrow(() -> new IllegalStateException(
                "predict(task, texts) needs a backbone: build the client with backbone(...)"));
        LiveModel m = live.get(task);
        if (m == null) {
            return Optional.empty();
        }
        float[][] vectors = b.embed(texts);
        List<Prediction> out = new java.util.ArrayList<>(texts.size());
        for (float[] v : vectors) {
            out.add(predict(m, v));
        }
        return Optional.of(out);
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Options of a {@link ModelClient}. */
    public static final class Builder {
        private final Map<String, Object> clientProps;
        private final Topics topics;
        private Pattern tasks = Pattern.compile(".*");
        private Optional<Backbone> backbone = Optional.empty();
        private Optional<BackboneRef> expected = Optional.empty();
        private MeterRegistry registry = new SimpleMeterRegistry();
        private Map<String, java.security.PublicKey> trusted = Map.of();
        private long stallTimeoutMs = 20_000;

        private Builder(Map<String, Object> clientProps, Topics topics) {
            this.clientProps = Map.copyOf(clientProps);
            this.topics = Objects.requireNonNull(topics, "topics cannot be null");
        }

        /** The backbone to embed texts with; updates for any other backbone are refused. */
        public Builder backbone(Backbone backbone) {
            this.backbone = Optional.of(backbone);
            return this;
        }

        /** Without a backbone instance (predicting from embeddings only): the backbone updates must match. */
        public Builder expectedBackbone(BackboneRef expected) {
            this.expected = Optional.of(expected);
            return this;
        }

        /** Tasks to follow (the whole task id must match); default all. */
        public Builder tasks(Pattern tasks) {
            this.tasks = Objects.requireNonNull(tasks, "tasks cannot be null");
            return this;
        }

        /**
         * Ed25519 public keys by key id ({@code registry.signing.key.id}); when given, every update must
         * carry a signature by one of them, else it is refused and counted with reason {@code unsigned},
         * {@code untrusted_key} or {@code signature}. Trust the old and the new key while a signing key
         * is rotated.
         */
        public Builder trustedKeys(Map<String, java.security.PublicKey> keys) {
            this.trusted = Map.copyOf(keys);
            return this;
        }

        /** How long updates may wait unread before {@link ModelClient#health()} says stuck (default 20 s). */
        public Builder stallTimeoutMs(long ms) {
            this.stallTimeoutMs = ms;
            return this;
        }

        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry cannot be null");
            return this;
        }

        /** A client that is not following yet: call {@link ModelClient#start()}. */
        public ModelClient build() {
            return new ModelClient(this);
        }
    }
}
