package io.headwater.tests;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * Watches consumer groups' committed offsets from outside, as an operator's lag exporter does: a
 * service has committed again when its group's offsets moved past where they were.
 *
 * <pre>{@code
 * long before = progress.committed("headwater-trainer");
 * OptionalLong ms = progress.millisUntilCommitPast("headwater-trainer", before, restartedAt, Duration.ofSeconds(60));
 * }</pre>
 */
final class GroupProgress implements AutoCloseable {
    private final Admin admin;

    GroupProgress(String bootstrapServers) {
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000));
    }

    /** Sum of the group's committed offsets over its partitions; -1 when they cannot be read now. */
    long committed(String group) {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
            return offsets.values().stream().filter(o -> o != null).mapToLong(OffsetAndMetadata::offset).sum();
        } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The group's committed offset per partition; empty when they cannot be read now. */
    Map<TopicPartition, Long> committedByPartition(String group) {
        try {
            Map<TopicPartition, Long> out = new java.util.HashMap<>();
            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS)
                    .forEach((tp, o) -> {
                        if (o != null) {
                            out.put(tp, o.offset());
                        }
                    });
            return out;
        } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Waits until the group has committed past {@code before} on every partition in it; returns the
     * milliseconds from {@code sinceNanos}. Fails at the timeout.
     */
    long millisUntilEveryPartitionPast(String group, Map<TopicPartition, Long> before, long sinceNanos,
                                       Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Map<TopicPartition, Long> now = committedByPartition(group);
            if (!before.isEmpty() && before.entrySet().stream()
                    .allMatch(e -> now.getOrDefault(e.getKey(), -1L) > e.getValue())) {
                return (System.nanoTime() - sinceNanos) / 1_000_000;
            }
            ChildBroker.sleep(100);
        }
        throw new AssertionError(group + " did not commit past " + before + " on every partition within " + timeout
                + "; now " + committedByPartition(group));
    }

    /** The group's committed offsets once they have not moved for half a second. */
    long settled(String group) {
        long last = committed(group);
        while (true) {
            ChildBroker.sleep(500);
            long now = committed(group);
            if (now == last) {
                return now;
            }
            last = now;
        }
    }

    /**
     * Waits until the group's committed offsets sum past {@code past}; returns the milliseconds from
     * {@code sinceNanos} (a {@link System#nanoTime()}) to then, or empty at the timeout.
     */
    OptionalLong millisUntilCommitPast(String group, long past, long sinceNanos, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (committed(group) > past) {
                return OptionalLong.of((System.nanoTime() - sinceNanos) / 1_000_000);
            }
            ChildBroker.sleep(100);
        }
        return OptionalLong.empty();
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
