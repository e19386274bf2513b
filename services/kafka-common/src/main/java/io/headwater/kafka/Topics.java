package io.headwater.kafka;

import io.headwater.core.FatalException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The immutable catalog of Headwater's topics under one prefix. Code never spells a topic name.
 *
 * <pre>{@code
 * Topics topics = Topics.withPrefix("headwater.");
 * producer.send(new ProducerRecord<>(topics.examples().name(), task, json));
 * }</pre>
 */
public final class Topics {
    private static final Logger LOG = LoggerFactory.getLogger(Topics.class);
    /** Model candidates and updates carry whole heads: allow up to 8 MB, deliberately. */
    public static final int MODEL_MAX_BYTES = 8 * 1024 * 1024;

    private final String prefix;
    private final Topic<String, byte[]> examples;
    private final Topic<byte[], byte[]> examplesDlq;
    private final Topic<String, FeatureRecord> features;
    private final Topic<String, ModelCandidate> modelCandidates;
    private final Topic<String, ModelUpdate> modelUpdates;
    private final Topic<String, ModelDecision> modelHistory;
    private final Topic<String, RegistryCommand> registryCommands;

    private Topics(String prefix) {
        this.prefix = prefix;
        Serde<String> str = Serdes.String();
        Map<String, String> modelSized = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MODEL_MAX_BYTES));
        Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MODEL_MAX_BYTES));
        this.examples = new Topic<>(prefix + "examples", str, Serdes.ByteArray(), Map.of());
        this.examplesDlq = new Topic<>(prefix + "examples.dlq", Serdes.ByteArray(), Serdes.ByteArray(), Map.of());
        this.features = new Topic<>(prefix + "features", str, new FeatureRecord.FeatureSerde(), Map.of());
        this.modelCandidates = new Topic<>(prefix + "model-candidates", str, Json.serde(ModelCandidate.class), modelSized);
        this.modelUpdates = new Topic<>(prefix + "model-updates", str, Json.serde(ModelUpdate.class), compacted);
        this.modelHistory = new Topic<>(prefix + "model-history", str, Json.serde(ModelDecision.class), compacted);
        this.registryCommands = new Topic<>(prefix + "registry-commands", str, Json.serde(RegistryCommand.class),
                Map.of());
    }

    public static Topics withPrefix(String prefix) {
        return new Topics(prefix);
    }

    public String prefix() {
        return prefix;
    }

    /** Labeled examples from producers; key = task id, value = JSON ({@code schemas/example.schema.json}). */
    public Topic<String, byte[]> examples() {
        return examples;
    }

    /** Examples that failed validation: original key and bytes, the reason in headers. */
    public Topic<byte[], byte[]> examplesDlq() {
        return examplesDlq;
    }

    /** Embeddings with labels; key = task id, value = {@code schemas/features-v1.md}. */
    public Topic<String, FeatureRecord> features() {
        return features;
    }

    /** Head versions proposed by the trainer; key = task id. */
    public Topic<String, ModelCandidate> modelCandidates() {
        return modelCandidates;
    }

    /** Published versions, compacted; key = task id, value = {@code schemas/model-update.schema.json}. */
    public Topic<String, ModelUpdate> modelUpdates() {
        return modelUpdates;
    }

    /**
     * Every registry decision (promoted, rejected and why, operator actions), compacted by task +
     * sequence so nothing is lost; key = {@code task@sequence}, partitioned by task.
     */
    public Topic<String, ModelDecision> modelHistory() {
        return modelHistory;
    }

    /** Operators' commands (rollback, pin, pause, ...) from the registry's API; key = task id. */
    public Topic<String, RegistryCommand> registryCommands() {
        return registryCommands;
    }

    /** Key of a decision in {@link #modelHistory()}. */
    public static String historyKey(String task, long sequence) {
        return task + "@" + sequence;
    }

    public List<Topic<?, ?>> all() {
        return List.of(examples, examplesDlq, features, modelCandidates, modelUpdates, modelHistory, registryCommands);
    }

    /**
     * Creates the given topics where they are missing, with {@link TopicSettings#AUTO automatic}
     * {@code min.insync.replicas}. A topic that exists is left as it is.
     *
     * @param replicationFactor -1 for automatic (3 on three or more brokers, else the broker's default)
     */
    public static void ensure(Admin admin, List<Topic<?, ?>> wanted, int partitions, short replicationFactor) {
        ensure(admin, wanted, new TopicSettings(partitions, replicationFactor, TopicSettings.AUTO));
    }

    /**
     * Creates the given topics where they are missing, with the settings resolved against the
     * cluster as it is now. A topic that exists is left as it is.
     *
     * @return the resolved settings, for the internal topics Kafka Streams creates
     */
    public static TopicSettings.Resolved ensure(Admin admin, List<Topic<?, ?>> wanted, TopicSettings settings) {
        try {
            TopicSettings.Resolved resolved = settings.resolve(admin);
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (Topic<?, ?> t : wanted) {
                if (!existing.contains(t.name())) {
                    Map<String, String> configs = new HashMap<>(resolved.topicConfigs());
                    configs.putAll(t.configs());
                    missing.add(new NewTopic(t.name(), Optional.of(resolved.partitions()), resolved.replicationFactor())
                            .configs(configs));
                }
            }
            if (missing.isEmpty()) {
                return resolved;
            }
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get();
                    LOG.info("Created topic {} with {}", entry.getKey(), resolved);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            return resolved;
        } catch (ExecutionException e) {
            throw new FatalException("Failed to create topics " + wanted + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while creating topics " + wanted, e);
        }
    }
}
