package io.headwater.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The health of a loop that runs on its own thread (the extractor's consume-embed-produce loop,
 * the model client's follower), told by the loop itself: when it made progress, how much input it
 * has waiting, whether it is ready, and why it stopped. A loop that is blocked stops telling, so
 * its last lag and last progress show it as stuck once {@code stallTimeoutMs} has passed.
 *
 * <pre>{@code
 * LoopHealth health = new LoopHealth("extractor", 20_000, registry);
 * health.assigned(true);          // in the rebalance listener
 * health.progressed();            // after each committed transaction, or an idle poll with no lag
 * health.lag(lag);                // after each poll
 * health.failed(e);               // when the loop dies
 * health.failure().thenAccept(e -> System.exit(1));
 * }</pre>
 */
public final class LoopHealth implements StageHealth {
    private final String stage;
    private final long stallTimeoutMs;
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private final AtomicReference<Double> lagGauge = new AtomicReference<>(0.0);
    private volatile long startedAt;
    private volatile long lastProgressAt;
    private volatile long lag = -1;
    private volatile boolean assigned;
    private volatile boolean stopped;

    /**
     * @param stallTimeoutMs how long input may wait with no progress before the loop counts as stuck
     * @param registry       gets {@code headwater.stage.lag{stage}} and the health gauges
     */
    public LoopHealth(String stage, long stallTimeoutMs, MeterRegistry registry) {
        this.stage = stage;
        this.stallTimeoutMs = stallTimeoutMs;
        // The loop's own lag gauge: unlike the Kafka client's, it keeps its last value after the loop died.
        Gauge.builder("headwater.stage.lag", lagGauge, AtomicReference::get)
                .description("Input records waiting for the stage, as its loop last saw them").baseUnit("records")
                .tag("stage", stage).register(registry);
        StageHealth.bindGauges(this, registry);
    }

    /** The loop runs. */
    public void started() {
        long now = System.currentTimeMillis();
        lastProgressAt = now;
        startedAt = now;
    }

    /** Whether the loop has its input assigned (false while it joins or rebalances). */
    public void assigned(boolean assigned) {
        this.assigned = assigned;
    }

    /** The loop committed work, or found nothing to do. */
    public void progressed() {
        lastProgressAt = System.currentTimeMillis();
    }

    /** Input records waiting, as the loop last saw them; -1 when unknown. */
    public void lag(long records) {
        lag = records;
        if (records >= 0) {
            lagGauge.set((double) records);
        }
        if (records == 0) {
            progressed();
        }
    }

    /** The loop died on {@code cause}; completes {@link #failure()}. */
    public void failed(Throwable cause) {
        failure.complete(cause);
    }

    /** The loop stopped because it was asked to. */
    public void stopped() {
        stopped = true;
    }

    /** Completes with the cause when the loop dies; never when it is stopped on purpose. */
    public CompletableFuture<Throwable> failure() {
        return failure;
    }

    @Override
    public String stage() {
        return stage;
    }

    @Override
    public Status status() {
        if (failure.isDone()) {
            return Status.dead("stopped on an error (see the log)");
        }
        if (stopped) {
            return Status.dead("stopped");
        }
        if (startedAt == 0) {
            return Status.live(false, "starting");
        }
        long idle = System.currentTimeMillis() - lastProgressAt;
        if (lag > 0 && idle > stallTimeoutMs) {
            return Status.dead(String.format(Locale.ROOT, "stuck: %d records waiting and no progress for %.0f s",
                    lag, idle / 1000.0));
        }
        return assigned ? Status.live(true, "running") : Status.live(false, "waiting for partitions");
    }
}
