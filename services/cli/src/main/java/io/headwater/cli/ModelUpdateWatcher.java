package io.headwater.cli;

import io.headwater.kafka.KafkaAccess;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.FollowedPositions;
import io.headwater.kafka.Readers;
import io.headwater.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows {@code model-updates} and {@code model-history} from the beginning with
 * {@code read_committed}, keeps every update and decision seen per task and calls back on each
 * update. Used by the demo to print versions and know when every example is decided on, and by tests.
 */
public final class ModelUpdateWatcher implements AutoCloseable {
    /** Each watcher reads in a consumer group of its own, this plus a random suffix (an ACL names the prefix). */
    public static final String GROUP_PREFIX = "headwater-watcher-";
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private final Map<String, List<ModelUpdate>> seen = new ConcurrentHashMap<>();
    private final Map<String, List<ModelDecision>> decided = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    public ModelUpdateWatcher(Map<String, Object> clientProps, Topics topics, Consumer<ModelUpdate> onUpdate) {
        KafkaAccess.check(clientProps);
        consumer = new KafkaConsumer<>(Readers.fromStart(clientProps, GROUP_PREFIX), new StringDeserializer(),
                new ByteArrayDeserializer());
        String updatesTopic = topics.modelUpdates().name();
        Deserializer<ModelUpdate> updates = topics.modelUpdates().valueSerde().deserializer();
        Deserializer<ModelDecision> decisions = topics.modelHistory().valueSerde().deserializer();
        FollowedPositions positions = new FollowedPositions(consumer);
        consumer.subscribe(List.of(updatesTopic, topics.modelHistory().name()), positions);
        thread = new Thread(() -> {
            try {
                while (running) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        if (!positions.isNew(r)) {
                            continue;
                        }
                        if (r.topic().equals(updatesTopic)) {
                            ModelUpdate u = updates.deserialize(r.topic(), r.value());
                            seen.computeIfAbsent(u.task(), k -> new CopyOnWriteArrayList<>()).add(u);
                            onUpdate.accept(u);
                        } else {
                            ModelDecision d = decisions.deserialize(r.topic(), r.value());
                            decided.computeIfAbsent(d.task(), k -> new CopyOnWriteArrayList<>()).add(d);
                        }
                    }
                }
            } catch (WakeupException e) {
                // closing
            } finally {
                consumer.close();
            }
        }, "headwater-update-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    /** Every update seen for a task, in order. */
    public List<ModelUpdate> updates(String task) {
        return new ArrayList<>(seen.getOrDefault(task, List.of()));
    }

    /** The newest update seen for a task. */
    public Optional<ModelUpdate> latest(String task) {
        List<ModelUpdate> u = seen.getOrDefault(task, List.of());
        return u.isEmpty() ? Optional.empty() : Optional.of(u.get(u.size() - 1));
    }

    /** Every registry decision seen for a task, in order. */
    public List<ModelDecision> decisions(String task) {
        return new ArrayList<>(decided.getOrDefault(task, List.of()));
    }

    /**
     * True when the registry has decided (promoted or rejected) on a candidate of this head type
     * that learned exactly {@code examples} examples: the stream so far has been fully judged.
     */
    public boolean decidedOn(String task, String headType, long examples) {
        return decided.getOrDefault(task, List.of()).stream().anyMatch(d -> d.candidate() != null
                && headType.equals(d.candidate().headType()) && d.candidate().metrics().examplesLearned() == examples);
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
