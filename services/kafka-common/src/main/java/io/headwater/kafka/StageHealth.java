package io.headwater.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Whether one stage (a processing loop, a Kafka Streams client, a model follower) is alive and
 * ready, as {@code /health/live} and {@code /health/ready} report it. Live means making progress,
 * or idle with nothing to do; a stage that has stopped, or has input waiting (lag above zero) and
 * has made no progress for the stall timeout, is not live. Ready means live and serving: started,
 * partitions assigned, not rebalancing.
 *
 * <pre>{@code
 * server.addHealth(extractor.health());
 * }</pre>
 */
public interface StageHealth {
    /** The stage's name, e.g. {@code extractor}; the {@code stage} tag of its health gauges. */
    String stage();

    /** The stage's state now. */
    Status status();

    /**
     * @param live   the stage runs and is not stuck
     * @param ready  live, and started, assigned and not rebalancing
     * @param detail one line for the health page, without exception text
     */
    record Status(boolean live, boolean ready, String detail) {
        public static Status live(boolean ready, String detail) {
            return new Status(true, ready, detail);
        }

        public static Status dead(String detail) {
            return new Status(false, false, detail);
        }
    }

    /**
     * Registers {@code headwater.health.live{stage}} and {@code headwater.health.ready{stage}} (1 or
     * 0), so an alert can fire on a stage that stopped or wedged while its process still serves
     * metrics.
     */
    static void bindGauges(StageHealth health, MeterRegistry registry) {
        Gauge.builder("headwater.health.live", health, h -> h.status().live() ? 1 : 0)
                .description("1 while the stage runs and makes progress (or has nothing to do), 0 when it stopped or is stuck")
                .tag("stage", health.stage()).register(registry);
        Gauge.builder("headwater.health.ready", health, h -> h.status().ready() ? 1 : 0)
                .description("1 while the stage is live, started and not rebalancing")
                .tag("stage", health.stage()).register(registry);
    }
}
