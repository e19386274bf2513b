package io.headwater.cli;

import io.headwater.kafka.Readers;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows {@code model-updates} from the beginning with {@code read_committed}, keeps every update
 * seen per task and calls back on each one. Used by the demo to print versions and by tests.
 */
public final class ModelUpdateWatcher implements AutoCloseable {
    private final KafkaConsumer<String, ModelUpdate> consumer;
    private final Thread thread;
    private final Map<String, List<ModelUpdate>> seen = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    public ModelUpdateWatcher(Map<String, Object> clientProps, Topics topics, Consumer<ModelUpdate> onUpdate) {
        consumer = new KafkaConsumer<>(Readers.fromStart(clientProps, "headwater-watcher-"), new StringDeserializer(),
                topics.modelUpdates().valueSerde().deserializer());
        consumer.subscribe(List.of(topics.modelUpdates().name()));
        thread = new Thread(() -> {
            try {
                while (running) {
                    for (ConsumerRecord<String, ModelUpdate> r : consumer.poll(Duration.ofMillis(200))) {
                        seen.computeIfAbsent(r.key(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                                .add(r.value());
                        onUpdate.accept(r.value());
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
