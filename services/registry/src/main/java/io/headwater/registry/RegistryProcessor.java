package io.headwater.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.headwater.core.BadRecordException;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.DeadLetters;
import io.headwater.kafka.Faults;
import io.headwater.kafka.Json;
import io.headwater.kafka.KafkaErrors;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.RegistryCommand;
import io.headwater.kafka.RepeatedWarnings;
import io.headwater.kafka.Topics;
import io.headwater.kafka.UpdateSignature;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides on each candidate and applies each operator command, one task at a time in the order they
 * arrive. A valid candidate that passes its task's {@link GatePolicy} becomes the next version
 * (1, 2, 3, ... per task) on {@code model-updates}; every decision, with its reason, goes to
 * {@code model-history}. Rollback and pin republish an earlier version's head as a new version, so
 * consumers follow them like any other update.
 *
 * <p>What cannot be decoded goes to {@code registry.dlq} with its reason, counted in
 * {@code headwater.registry.dlq{reason}}: a record without a task key ({@code key}), an invalid
 * candidate ({@code invalid}, also recorded as a rejection in the task's history) and an unreadable
 * or inconsistent command ({@code command}).
 */
final class RegistryProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryProcessor.class);
    /** Rejection reasons, registered up front so every series exists from the start. */
    static final List<String> REJECTION_REASONS = List.of("invalid", "gate", "floor", "min_examples", "paused", "pinned");
    /** Dead-letter reasons, registered up front. */
    static final List<String> DLQ_REASONS = List.of("key", "invalid", "command");

    private final RegistryConfig config;
    private final MeterRegistry registry;
    private final Counter published;
    private final Counter promoted;
    private final Counter rollbacks;
    private final Timer exampleToVersion;
    private final AtomicLong lastPublished;
    private final String commandsTopic;
    private final int dlqMaxBytes;
    private final RepeatedWarnings warnings = new RepeatedWarnings(LOG, "headwater_registry_dlq_total");
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, ModelUpdate> current;
    private KeyValueStore<String, ModelUpdate> versions;
    private KeyValueStore<String, TaskControl> controls;
    private KeyValueStore<String, ModelDecision> decisions;

    RegistryProcessor(RegistryConfig config, MeterRegistry registry, AtomicLong lastPublished, int dlqMaxBytes) {
        this.config = config;
        this.dlqMaxBytes = dlqMaxBytes;
        this.registry = registry;
        this.lastPublished = lastPublished;
        this.commandsTopic = Topics.withPrefix(config.topicPrefix()).registryCommands().name();
        this.published = Counter.builder("headwater.registry.published")
                .description("Versions published: promoted candidates, rollbacks and pins").register(registry);
        this.promoted = Counter.builder("headwater.registry.promoted").description("Candidates promoted to versions")
                .register(registry);
        this.rollbacks = Counter.builder("headwater.registry.rollbacks").description("Rollbacks applied")
                .register(registry);
        this.exampleToVersion = Timer.builder("headwater.registry.example.to.version")
                .description("From the oldest example a version adds to its publication").publishPercentileHistogram()
                .register(registry);
        REJECTION_REASONS.forEach(this::rejectedCounter);
        DLQ_REASONS.forEach(this::deadLetterCounter);
    }

    private Counter deadLetterCounter(String reason) {
        return Counter.builder("headwater.registry.dlq").description("Records sent to the registry's dead-letter topic, by reason")
                .tag("reason", reason).register(registry);
    }

    /** Sends what the registry cannot use to registry.dlq, with why and where. */
    private void deadLetter(Record<String, byte[]> record, String reason, String message) {
        String topic = context.recordMetadata().map(m -> m.topic()).orElse("?");
        int partition = context.recordMetadata().map(m -> m.partition()).orElse(-1);
        long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
        warnings.warn(reason, "Dead-lettering {}-{}@{} ({}): {}", topic, partition, offset, reason, message);
        deadLetterCounter(reason).increment();
        byte[] key = record.key() == null ? null : record.key().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        DeadLetters.Letter letter = DeadLetters.letter(key, record.value(), record.headers(), topic, partition, offset,
                reason, message, dlqMaxBytes);
        context.forward(new Record<>(record.key(), letter.value(), record.timestamp(), letter.headers()),
                RegistryTopology.DLQ_SINK);
    }

    private Counter rejectedCounter(String reason) {
        return Counter.builder("headwater.registry.rejected").description("Candidates rejected, by reason")
                .tag("reason", reason).register(registry);
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.current = context.getStateStore(RegistryTopology.CURRENT_STORE);
        this.versions = context.getStateStore(RegistryTopology.VERSIONS_STORE);
        this.controls = context.getStateStore(RegistryTopology.CONTROL_STORE);
        this.decisions = context.getStateStore(RegistryTopology.DECISIONS_STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        Faults.hit("registry.process");
        String where = context.recordMetadata().map(m -> m.topic() + "-" + m.partition() + "@" + m.offset()).orElse("?");
        if (record.key() == null || record.key().isEmpty()) {
            deadLetter(record, "key", "record without a task key");
            return;
        }
        boolean command = context.recordMetadata().map(m -> m.topic().equals(commandsTopic)).orElse(false);
        if (command) {
            command(record, where);
        } else {
            candidate(record, where);
        }
    }

    private void candidate(Record<String, byte[]> record, String where) {
        String task = record.key();
        String offset = context.recordMetadata().map(m -> m.partition() + "@" + m.offset()).orElse("?");
        CandidateValidator.Valid valid;
        try {
            valid = CandidateValidator.validate(task, record.value());
        } catch (BadRecordException e) {
            reject(task, "invalid: " + e.getMessage(), null, where);
            deadLetter(record, "invalid", e.getMessage());
            return;
        } catch (RuntimeException e) {
            // Decoding a foreign record must never kill the thread (a new one would read it again).
            reject(task, "invalid: " + KafkaErrors.describe(e), null, where);
            deadLetter(record, "invalid", KafkaErrors.describe(e));
            return;
        }
        ModelCandidate c = valid.candidate();
        ModelDecision.Candidate seen = new ModelDecision.Candidate(c.headType(), c.metrics(),
                HeadArtifact.sha256(valid.artifact()), c.createdAt(), offset);
        TaskControl control = control(task);
        ModelUpdate cur = current.get(task);
        String reason;
        if (control.paused()) {
            reason = "paused: publishing is paused for this task";
        } else if (control.pinnedVersion() > 0) {
            reason = "pinned: version " + control.pinnedVersion() + " is pinned";
        } else {
            reason = config.policies().forTask(task).check(c.metrics().examplesLearned(), c.metrics().windowedAccuracy(),
                    c.metrics().windowCount(), cur == null ? null : cur.metrics().windowedAccuracy(),
                    cur == null ? 0 : cur.metrics().windowCount(), cur != null && !cur.headType().equals(c.headType()));
        }
        if (reason != null) {
            reject(task, reason, seen, where);
            return;
        }
        String now = Instant.now().toString();
        long version = cur == null ? 1 : cur.version() + 1;
        ModelUpdate update = new ModelUpdate(ModelUpdate.FORMAT_VERSION, task, version, cur == null ? 0 : cur.version(),
                c.headType(), c.labels(), c.backbone(),
                new ModelUpdate.Artifact(HeadArtifact.FORMAT, seen.artifactSha256(), valid.artifact().length, c.artifact()),
                c.metrics(), new ModelUpdate.Provenance(c.featureOffsets(), c.trainer(), c.createdAt(), c.configDigest()),
                now, ModelUpdate.PROMOTED, 0, null);
        ModelUpdate published = publish(record, update);
        promoted.increment();
        since(c.oldestExampleAt()).ifPresent(exampleToVersion::record);
        decide(record, control, ModelDecision.PROMOTED, "", published, seen, "gate");
        LOG.info("Published task {} version {}: {} head, {} examples, windowed accuracy {}", task, version,
                c.headType(), c.metrics().examplesLearned(), String.format(Locale.ROOT, "%.3f",
                        c.metrics().windowedAccuracy()));
    }

    private void reject(String task, String reason, ModelDecision.Candidate seen, String where) {
        TaskControl control = control(task);
        ModelDecision d = new ModelDecision(ModelDecision.FORMAT_VERSION, task, control.decisions() + 1,
                ModelDecision.REJECTED, reason, 0, seen, null, "gate", Instant.now().toString());
        rejectedCounter(d.reasonCode()).increment();
        controls.put(task, control.next());
        record(d, context.currentSystemTimeMs());
        LOG.info("Rejected candidate {} of task {}: {}", where, task, reason);
    }

    private void command(Record<String, byte[]> record, String where) {
        String task = record.key();
        RegistryCommand cmd;
        if (record.value() == null) {
            deadLetter(record, "command", "command without a value");
            return;
        }
        try {
            cmd = Json.MAPPER.readValue(record.value(), RegistryCommand.class);
        } catch (JsonProcessingException e) {
            deadLetter(record, "command", "unreadable registry command: " + e.getOriginalMessage());
            return;
        } catch (IOException | IllegalArgumentException e) {
            deadLetter(record, "command", "unreadable registry command: " + e.getMessage());
            return;
        }
        if (cmd == null || cmd.action() == null || !task.equals(cmd.task())) {
            deadLetter(record, "command", "registry command without an action, or for a task other than its key '"
                    + task + "'");
            return;
        }
        TaskControl control = control(task);
        ModelUpdate cur = current.get(task);
        String actor = cmd.actor() == null ? "api" : cmd.actor();
        String detail = "command " + cmd.id() + (cmd.reason() == null || cmd.reason().isBlank() ? "" : ": " + cmd.reason());
        switch (cmd.action()) {
            case ROLLBACK, PIN -> {
                ModelUpdate target = versions.get(RegistryTopology.versionKey(task, cmd.version()));
                if (target == null || cur == null) {
                    decide(record, control, ModelDecision.REFUSED, cmd.action().id() + ": task has no version "
                            + cmd.version() + " (" + detail + ")", null, null, actor);
                    return;
                }
                TaskControl next = cmd.action() == RegistryCommand.Action.PIN ? control.withPinned(cmd.version()) : control;
                boolean alreadyServing = cur.version() == cmd.version()
                        || (cur.sourceVersion() == cmd.version() && !ModelUpdate.PROMOTED.equals(cur.origin()));
                ModelUpdate update = null;
                if (!(alreadyServing && cmd.action() == RegistryCommand.Action.PIN)) {
                    update = publish(record, target.republish(cur.version() + 1, cur.version(),
                            cmd.action() == RegistryCommand.Action.PIN ? ModelUpdate.PIN : ModelUpdate.ROLLBACK,
                            Instant.now().toString()));
                }
                if (cmd.action() == RegistryCommand.Action.ROLLBACK) {
                    rollbacks.increment();
                }
                decide(record, next, cmd.action().id(), detail, update, null, actor);
                LOG.info("Task {}: {} to version {} by {} ({})", task, cmd.action().id(), cmd.version(), actor, detail);
            }
            case UNPIN -> decide(record, control.withPinned(0), cmd.action().id(), detail, null, null, actor);
            case PAUSE -> decide(record, control.withPaused(true), cmd.action().id(), detail, null, null, actor);
            case RESUME -> decide(record, control.withPaused(false), cmd.action().id(), detail, null, null, actor);
            default -> throw new IllegalStateException("unhandled action " + cmd.action());
        }
    }

    /** Signs (when the registry has a key), stores and forwards an update; returns what was published. */
    private ModelUpdate publish(Record<String, byte[]> record, ModelUpdate unsigned) {
        ModelUpdate update = config.signingKey()
                .map(k -> UpdateSignature.sign(unsigned, config.signingKeyId(), k)).orElse(unsigned);
        current.put(update.task(), update);
        versions.put(RegistryTopology.versionKey(update.task(), update.version()), update);
        context.forward(new Record<>(update.task(), Json.write(update), record.timestamp(), record.headers()),
                RegistryTopology.UPDATES_SINK);
        published.increment();
        lastPublished.set(System.currentTimeMillis() / 1000);
        return update;
    }

    /** Records a decision in model-history and stores the task's control with its sequence advanced. */
    private void decide(Record<String, byte[]> record, TaskControl control, String decision, String reason,
                        ModelUpdate update, ModelDecision.Candidate seen, String actor) {
        TaskControl next = control.next();
        ModelDecision d = new ModelDecision(ModelDecision.FORMAT_VERSION, record.key(), next.decisions(), decision, reason,
                update == null ? 0 : update.version(), seen, update, actor, Instant.now().toString());
        controls.put(record.key(), next);
        record(d, record.timestamp());
    }

    /**
     * Writes a decision to model-history and keeps it, without the update it published (that is in
     * the versions store), for the API's history of the task.
     */
    private void record(ModelDecision d, long timestamp) {
        context.forward(new Record<>(Topics.historyKey(d.task(), d.sequence()), Json.write(d), timestamp),
                RegistryTopology.HISTORY_SINK);
        decisions.put(RegistryTopology.versionKey(d.task(), d.sequence()), new ModelDecision(d.formatVersion(), d.task(),
                d.sequence(), d.decision(), d.reason(), d.version(), d.candidate(), null, d.actor(), d.at()));
    }

    private TaskControl control(String task) {
        TaskControl c = controls.get(task);
        return c == null ? TaskControl.NEW : c;
    }

    private static java.util.Optional<Duration> since(String instant) {
        if (instant == null) {
            return java.util.Optional.empty();
        }
        try {
            Duration d = Duration.between(Instant.parse(instant), Instant.now());
            return d.isNegative() ? java.util.Optional.empty() : java.util.Optional.of(d);
        } catch (DateTimeParseException e) {
            return java.util.Optional.empty();
        }
    }
}
