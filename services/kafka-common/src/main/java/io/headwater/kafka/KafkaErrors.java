package io.headwater.kafka;

import io.headwater.core.FatalException;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ApplicationRecoverableException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * What can be done about an error from a Kafka client, as the clients document it (KIP-691,
 * KIP-1050): retry the same call, abort the transaction and try again, or give up.
 *
 * <pre>{@code
 * switch (KafkaErrors.classify(e)) {
 *     case RETRIABLE -> retryTheSameCall();
 *     case ABORTABLE -> abortSeekBackAndBackOff();
 *     case FATAL -> logOnceCloseAndExit(e);
 * }
 * }</pre>
 */
public final class KafkaErrors {
    private KafkaErrors() {
    }

    /** The three answers to an error. */
    public enum Kind {
        /**
         * A transactional call timed out: the request may still complete, and the producer accepts
         * only the same call again ("timed out and must be retried").
         */
        RETRIABLE,
        /** The transaction cannot commit but the clients can go on: abort, rewind, back off, retry. */
        ABORTABLE,
        /** Fenced, not authorized, unsupported, misconfigured or a bug: close and let a supervisor restart. */
        FATAL
    }

    /**
     * Classifies an error thrown by a transactional producer call (commit, abort, send offsets,
     * init), by a consumer, or reaching a Kafka Streams thread. The whole cause chain is looked at:
     * {@code "Cannot execute transactional method because we are in an error state"} carries the
     * error that put the producer there.
     */
    public static Kind classify(Throwable error) {
        Set<Throwable> seen = new HashSet<>();
        boolean kafka = false;
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            if (isFatal(t)) {
                return Kind.FATAL;
            }
            kafka |= t instanceof KafkaException;
        }
        if (error instanceof TimeoutException) {
            return Kind.RETRIABLE;
        }
        // Any other Kafka error leaves the producer able to abort (when it cannot, abortTransaction
        // throws and that is fatal); anything else is a bug of ours and a new thread would meet it again.
        return kafka ? Kind.ABORTABLE : Kind.FATAL;
    }

    private static boolean isFatal(Throwable t) {
        if (isRecordError(t)) {
            // One record the broker refuses (InvalidRecordException is an InvalidConfigurationException):
            // the transaction aborts, the record is dead-lettered, the clients go on.
            return false;
        }
        return t instanceof FatalException
                || t instanceof ProducerFencedException
                || t instanceof InvalidProducerEpochException
                || t instanceof FencedInstanceIdException
                || t instanceof ApplicationRecoverableException && !isRebalance(t)
                || t instanceof OutOfOrderSequenceException
                || t instanceof AuthorizationException
                || t instanceof AuthenticationException
                || t instanceof UnsupportedVersionException
                || t instanceof InvalidConfigurationException
                || t instanceof org.apache.kafka.common.config.ConfigException
                || t instanceof InterruptException
                || t instanceof IllegalStateException && !fromKafkaClient(t)
                || t instanceof Error;
    }

    /**
     * An IllegalStateException thrown inside a Kafka client is that client's state, not a bug of
     * ours: for example Kafka Streams calling {@code sendOffsetsToTransaction} on a producer whose
     * last {@code commitTransaction} timed out. A new stream thread, with new clients, gets past it.
     */
    private static boolean fromKafkaClient(Throwable t) {
        StackTraceElement[] trace = t.getStackTrace();
        return trace.length > 0 && trace[0].getClassName().startsWith("org.apache.kafka.clients.");
    }

    /**
     * Stale group generation or member id: the group rebalanced under a transaction. The producer
     * turns these into an abortable {@code CommitFailedException}; abort and rejoin.
     */
    private static boolean isRebalance(Throwable t) {
        return t instanceof org.apache.kafka.common.errors.IllegalGenerationException
                || t instanceof org.apache.kafka.common.errors.UnknownMemberIdException;
    }

    /**
     * Whether a failed {@code send} failed because of that one record (too large, refused by the
     * broker's validation), so that sending it again would fail again: it must be dead-lettered.
     */
    public static boolean isRecordError(Throwable t) {
        return t instanceof RecordTooLargeException
                || t instanceof org.apache.kafka.common.InvalidRecordException
                || t instanceof org.apache.kafka.common.errors.CorruptRecordException
                || t instanceof org.apache.kafka.common.errors.SerializationException;
    }

    /** One line for a log: the error and every cause, without stack frames. */
    public static String describe(Throwable error) {
        StringBuilder b = new StringBuilder();
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            if (b.length() > 0) {
                b.append(" <- ");
            }
            b.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                b.append(": ").append(t.getMessage());
            }
        }
        return b.toString();
    }
}
