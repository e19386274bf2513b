package io.headwater.kafka;

import io.headwater.core.FatalException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
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
    /**
     * Dead letters of examples and features: 1 MiB, the broker's default record limit. A dead
     * letter is cut to fit its topic's actual limit ({@link DeadLetters}), so this only sizes how
     * much of a huge record is kept.
     */
    public static final int DLQ_MAX_BYTES = 1024 * 1024;

    private final String prefix;
    private final Topic<String, byte[]> examples;
    private final Topic<byte[], byte[]> examplesDlq;
    private final Topic<String, FeatureRecord> features;
    private final Topic<String, ModelCandidate> modelCandidates;
    private final Topic<String, ModelUpdate> modelUpdates;
    private final Topic<String, ModelDecision> modelHistory;
    private final Topic<String, RegistryCommand> registryCommands;
    private final Topic<byte[], byte[]> featuresDlq;
    private final Topic<byte[], byte[]> registryDlq;

    private Topics(String prefix) {
        this.prefix = prefix;
        Serde<String> str = Serdes.String();
        Map<String, String> modelSized = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MODEL_MAX_BYTES));
        Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MODEL_MAX_BYTES));
        this.examples = new Topic<>(prefix + "examples", str, Serdes.ByteArray(), Map.of());
        Map<String, String> dlqSized = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(DLQ_MAX_BYTES));
        this.examplesDlq = new Topic<>(prefix + "examples.dlq", Serdes.ByteArray(), Serdes.ByteArray(), dlqSized);
        this.featuresDlq = new Topic<>(prefix + "features.dlq", Serdes.ByteArray(), Serdes.ByteArray(), dlqSized);
        // Bad candidates can be as large as good ones.
        this.registryDlq = new Topic<>(prefix + "registry.dlq", Serdes.ByteArray(), Serdes.ByteArray(), modelSized);
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

    /**
     * Feature records the trainer could not learn from (undecodable, non-finite, wrong dimension or
     * backbone, a duplicate example id, a head that failed on it): original key and bytes, the
     * reason in headers.
     */
    public Topic<byte[], byte[]> featuresDlq() {
        return featuresDlq;
    }

    /** Candidates and commands the registry could not decode: original key and bytes, the reason in headers. */
    public Topic<byte[], byte[]> registryDlq() {
        return registryDlq;
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
        return List.of(examples, examplesDlq, features, featuresDlq, modelCandidates, modelUpdates, modelHistory,
                registryCommands, registryDlq);
    }

    /**
     * The record size limit a topic has on the cluster ({@code max.message.bytes}, the topic's own or
     * the broker's default), for sizing what is written to it. A topic that cannot be described
     * (not yet visible, no describe permission) gives the limit Headwater creates it with, else the
     * broker default of 1 MB.
     */
    public static int maxMessageBytes(Admin admin, Topic<?, ?> topic) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.name());
        Exception last = null;
        // A topic created a moment ago may not be known to every broker yet: ask a few times.
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
                ConfigEntry entry = config == null ? null : config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
                if (entry != null && entry.value() != null) {
                    return Integer.parseInt(entry.value());
                }
                break;
            } catch (ExecutionException | java.util.concurrent.TimeoutException | NumberFormatException e) {
                last = e;
                try {
                    Thread.sleep(200L << attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new FatalException("Interrupted while describing topic " + topic.name(), ie);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FatalException("Interrupted while describing topic " + topic.name(), e);
            }
        }
        if (last != null) {
            LOG.warn("Could not read max.message.bytes of topic {} ({}); assuming {}", topic.name(), last.toString(),
                    configuredMaxMessageBytes(topic));
        }
        return configuredMaxMessageBytes(topic);
    }

    private static int configuredMaxMessageBytes(Topic<?, ?> topic) {
        String v = topic.configs().get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        return v == null ? 1_048_588 : Integer.parseInt(v);
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
