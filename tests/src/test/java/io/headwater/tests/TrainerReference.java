package io.headwater.tests;

import io.headwater.core.HeadArtifact;
import io.headwater.kafka.ModelCandidate;
import io.headwater.kafka.Topics;
import io.headwater.trainer.Trainer;
import io.headwater.trainer.TrainerConfig;
import io.headwater.trainer.TrainerTopology;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * An uninterrupted run of the trainer: its topology, with the given config, over the given feature
 * records in their order, with no broker and no crash. What a fault test's trainer must match.
 */
final class TrainerReference {
    private TrainerReference() {
    }

    /** The SHA-256 of the last candidate artifact of each task's heads: task to head type to digest. */
    static Map<String, Map<String, String>> finalArtifactSha256(Map<String, String> props,
                                                               List<ConsumerRecord<byte[], byte[]>> features) {
        TrainerConfig config = new TrainerConfig(props);
        Properties p = new Properties();
        p.putAll(Trainer.streamsOverrides(config));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        Topics topics = Topics.withPrefix(config.topicPrefix());
        Map<String, Map<String, String>> out = new HashMap<>();
        try (TopologyTestDriver driver = new TopologyTestDriver(TrainerTopology.build(config, new SimpleMeterRegistry()),
                p, Instant.ofEpochMilli(0))) {
            TestInputTopic<byte[], byte[]> in = driver.createInputTopic(topics.features().name(),
                    Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer());
            TestOutputTopic<String, ModelCandidate> candidates = driver.createOutputTopic(
                    topics.modelCandidates().name(), Serdes.String().deserializer(),
                    topics.modelCandidates().valueSerde().deserializer());
            List<ConsumerRecord<byte[], byte[]>> ordered = features.stream().sorted(
                    Comparator.<ConsumerRecord<byte[], byte[]>>comparingInt(ConsumerRecord::partition)
                            .thenComparingLong(ConsumerRecord::offset)).toList();
            for (int i = 0; i < ordered.size(); i++) {
                ConsumerRecord<byte[], byte[]> r = ordered.get(i);
                in.pipeInput(r.key(), r.value(), r.timestamp());
                if (i % 50 == 0) {
                    dropChangelogs(driver, topics);
                }
            }
            // The time-triggered candidate of what the count-triggered ones left over.
            driver.advanceWallClockTime(Duration.ofMillis(config.candidateEveryMs() + 1_000));
            for (ModelCandidate c : candidates.readValuesToList()) {
                out.computeIfAbsent(c.task(), t -> new HashMap<>()).put(c.headType(),
                        HeadArtifact.sha256(Base64.getDecoder().decode(c.artifact())));
            }
        }
        return out;
    }

    /**
     * The driver commits after every record and keeps every record it produced, changelogs
     * included: a whole task state per record. Drop them as they come, or the heap fills up.
     */
    private static void dropChangelogs(TopologyTestDriver driver, Topics topics) {
        for (String topic : driver.producedTopicNames()) {
            if (topic.endsWith("-changelog")) {
                driver.createOutputTopic(topic, Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer())
                        .readRecordsToList();
            }
        }
    }
}
