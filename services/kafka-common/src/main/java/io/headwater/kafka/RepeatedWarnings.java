package io.headwater.kafka;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Warnings on a hot path (one per bad record, per failed attempt): the first of each kind is logged
 * at WARN, the repeats at DEBUG, and at most one WARN per kind every {@link #INTERVAL_MS} says how
 * many there were since. The caller counts every occurrence in its own metric, which the message
 * names. After {@link #reset(String)} (the condition cleared) the next one is logged at WARN again.
 *
 * <pre>{@code
 * RepeatedWarnings warnings = new RepeatedWarnings(LOG, "headwater_extractor_dlq_total");
 * warnings.warn("json", "Dead-lettering {}-{}@{}: {}", topic, partition, offset, reason);
 * }</pre>
 */
public final class RepeatedWarnings {
    static final long INTERVAL_MS = 600_000;

    private final Logger log;
    private final String metric;
    private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

    private static final class Kind {
        volatile long lastWarnAt;
        final AtomicLong suppressed = new AtomicLong();
    }

    /** @param metric the metric that counts these, named in the first message */
    public RepeatedWarnings(Logger log, String metric) {
        this.log = log;
        this.metric = metric;
    }

    /** Logs one occurrence of {@code kind}; the arguments are SLF4J's (a last Throwable is logged with its stack). */
    public void warn(String kind, String format, Object... args) {
        long now = System.currentTimeMillis();
        Kind k = kinds.computeIfAbsent(kind, x -> new Kind());
        synchronized (k) {
            if (k.lastWarnAt == 0) {
                k.lastWarnAt = now;
                log.warn(format + " (repeats are logged at DEBUG and counted in " + metric + ")", args);
                return;
            }
            if (now - k.lastWarnAt >= INTERVAL_MS) {
                long n = k.suppressed.getAndSet(0);
                k.lastWarnAt = now;
                log.warn(format + " (and " + n + " more like it in the last " + (INTERVAL_MS / 60_000)
                        + " minutes, counted in " + metric + ")", args);
                return;
            }
        }
        k.suppressed.incrementAndGet();
        log.debug(format, args);
    }

    /** The condition of {@code kind} has cleared: its next occurrence is logged at WARN. */
    public void reset(String kind) {
        kinds.remove(kind);
    }
}
