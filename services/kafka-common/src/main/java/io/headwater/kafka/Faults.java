package io.headwater.kafka;

import io.headwater.core.FatalException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault injection for the fault tests, off unless a system property asks for it:
 * {@code -Dheadwater.fault.POINT=ACTION[:N[,M...]]} does ACTION the N-th (and M-th ...) time the
 * code passes POINT (default the first). Actions: {@code halt} (the JVM stops at once with status 99, as a crash
 * would), {@code fatal} (throws a {@link FatalException}, as an unrecoverable error would),
 * {@code throw} (throws an {@link IllegalStateException}, as a bug would), {@code kafka} (throws a
 * {@code KafkaException}, as a client error a new thread gets past would) and {@code hang} (the
 * thread blocks forever, as a wedged call would). Tests in the same JVM use {@link #inject}.
 *
 * <p>Points: {@code extractor.commit} (after a transaction's records reached the broker, before
 * its commit), {@code extractor.embed} (the embedding of a batch), {@code trainer.process} and
 * {@code registry.process} (a record in the processor, outside its dead-letter handling) and
 * {@code trainer.learn} (a head learning one record, inside the trainer's head-failure handling) and
 * {@code client.poll} (each poll of a model client's follower) and {@code extractor.backbone} (each
 * backbone call of the extractor: a batch, the probe, one text).
 *
 * <pre>{@code
 * Faults.hit("extractor.commit");
 * }</pre>
 */
public final class Faults {
    private static final Logger LOG = LoggerFactory.getLogger(Faults.class);
    static final String PREFIX = "headwater.fault.";
    private static final Map<String, String> CONFIGURED = read();
    private static final Map<String, AtomicLong> COUNTS = new ConcurrentHashMap<>();

    private Faults() {
    }

    private static Map<String, String> read() {
        Map<String, String> out = new ConcurrentHashMap<>();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(PREFIX))
                .forEach(k -> out.put(k.substring(PREFIX.length()), System.getProperty(k)));
        return out;
    }

    /** Sets a fault as {@code -Dheadwater.fault.POINT=SPEC} would, counting from now; for tests. */
    public static void inject(String point, String spec) {
        COUNTS.remove(point);
        CONFIGURED.put(point, spec);
    }

    /** Removes every fault; for tests. */
    public static void clear() {
        CONFIGURED.clear();
        COUNTS.clear();
    }

    /** Passes {@code point}: does the configured action when its turn has come, else nothing. */
    public static void hit(String point) {
        if (CONFIGURED.isEmpty()) {
            return;
        }
        String spec = CONFIGURED.get(point);
        if (spec == null) {
            return;
        }
        int colon = spec.indexOf(':');
        String action = colon < 0 ? spec : spec.substring(0, colon);
        long count = COUNTS.computeIfAbsent(point, p -> new AtomicLong()).incrementAndGet();
        boolean due = colon < 0 ? count == 1 : java.util.Arrays.stream(spec.substring(colon + 1).split(","))
                .mapToLong(n -> Long.parseLong(n.trim())).anyMatch(n -> n == count);
        if (!due) {
            return;
        }
        LOG.error("Injected fault at {}: {} ({}{} set)", point, action, PREFIX, point);
        switch (action) {
            case "halt" -> Runtime.getRuntime().halt(99);
            case "fatal" -> throw new FatalException("injected fatal error at " + point);
            case "throw" -> throw new IllegalStateException("injected failure at " + point);
            case "kafka" -> throw new org.apache.kafka.common.KafkaException("injected Kafka error at " + point);
            case "hang" -> {
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new FatalException("injected hang at " + point + " interrupted", e);
                }
            }
            default -> throw new FatalException("unknown fault action '" + action + "' for " + PREFIX + point);
        }
    }
}
