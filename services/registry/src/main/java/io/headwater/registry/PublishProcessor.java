package io.headwater.registry;

import io.headwater.core.BadRecordException;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates each candidate, numbers it (1, 2, 3, ... per task) and forwards the published update
 * to {@code model-updates} (key = task) and {@code model-history} (key = task@version). Rejected
 * candidates are logged with their offset and counted by reason.
 */
final class PublishProcessor implements Processor<String, byte[], String, ModelUpdate> {
    private static final Logger LOG = LoggerFactory.getLogger(PublishProcessor.class);

    private final MeterRegistry registry;
    private final Counter published;
    private ProcessorContext<String, ModelUpdate> context;
    private KeyValueStore<String, ModelUpdate> current;

    PublishProcessor(MeterRegistry registry) {
        this.registry = registry;
        this.published = Counter.builder("headwater.registry.published").description("Versions published")
                .register(registry);
    }

    @Override
    public void init(ProcessorContext<String, ModelUpdate> context) {
        this.context = context;
        this.current = context.getStateStore(RegistryTopology.CURRENT_STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        CandidateValidator.Valid valid;
        try {
            valid = CandidateValidator.validate(record.key(), record.value());
        } catch (BadRecordException e) {
            String where = context.recordMetadata().map(m -> m.topic() + "-" + m.partition() + "@" + m.offset())
                    .orElse("?");
            LOG.warn("Rejected candidate {} for task {}: {}", where, record.key(), e.getMessage());
            Counter.builder("headwater.registry.rejected").description("Candidates rejected")
                    .tag("reason", "invalid").register(registry).increment();
            return;
        }
        ModelCandidate c = valid.candidate();
        ModelUpdate previous = current.get(c.task());
        long version = previous == null ? 1 : previous.version() + 1;
        ModelUpdate update = new ModelUpdate(ModelUpdate.FORMAT_VERSION, c.task(), version,
                previous == null ? 0 : previous.version(), c.headType(), c.labels(), c.backbone(),
                new ModelUpdate.Artifact(HeadArtifact.FORMAT, HeadArtifact.sha256(valid.artifact()),
                        valid.artifact().length, c.artifact()),
                c.metrics(), new ModelUpdate.Provenance(c.featureOffsets(), c.trainer(), c.createdAt()),
                Instant.now().toString());
        current.put(c.task(), update);
        context.forward(record.withValue(update), RegistryTopology.UPDATES_SINK);
        context.forward(record.withKey(Topics.historyKey(c.task(), version)).withValue(update),
                RegistryTopology.HISTORY_SINK);
        published.increment();
        LOG.info("Published task {} version {}: {} head, {} examples, windowed accuracy {}", c.task(), version,
                c.headType(), c.metrics().examplesLearned(), String.format("%.3f", c.metrics().windowedAccuracy()));
    }
}
