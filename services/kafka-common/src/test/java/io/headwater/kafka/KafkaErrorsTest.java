package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.core.FatalException;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class KafkaErrorsTest {
    static KafkaException errorState(Throwable cause) {
        return new KafkaException("Cannot execute transactional method because we are in an error state", cause);
    }

    static IllegalStateException thrownBy(String className) {
        IllegalStateException e = new IllegalStateException("Cannot attempt operation `sendOffsetsToTransaction` "
                + "because the previous call to `commitTransaction` timed out and must be retried");
        e.setStackTrace(new StackTraceElement[] {new StackTraceElement(className, "maybeFailWithError", null, 1)});
        return e;
    }

    @Test
    void shouldRetryTheSameCallAfterATimeout() {
        assertThat(KafkaErrors.classify(new TimeoutException("Timeout expired after 4000ms while awaiting EndTxn")))
                .isEqualTo(KafkaErrors.Kind.RETRIABLE);
    }

    @Test
    void shouldAbortAndRetryWhatTheProducerCanAbort() {
        assertThat(KafkaErrors.classify(new TransactionAbortableException("abort"))).isEqualTo(KafkaErrors.Kind.ABORTABLE);
        assertThat(KafkaErrors.classify(new CommitFailedException())).isEqualTo(KafkaErrors.Kind.ABORTABLE);
        assertThat(KafkaErrors.classify(errorState(new RecordTooLargeException("2000062 bytes"))))
                .isEqualTo(KafkaErrors.Kind.ABORTABLE);
        assertThat(KafkaErrors.classify(errorState(new InvalidRecordException("compacted topic needs a key"))))
                .isEqualTo(KafkaErrors.Kind.ABORTABLE);
        // A producer's own state, as a stream thread meets it: a new thread with new clients gets past it.
        assertThat(KafkaErrors.classify(new StreamsException(thrownBy(
                "org.apache.kafka.clients.producer.internals.TransactionManager"))))
                .isEqualTo(KafkaErrors.Kind.ABORTABLE);
    }

    @Test
    void shouldGiveUpOnFencingAuthorizationAndBugs() {
        assertThat(KafkaErrors.classify(new ProducerFencedException("fenced"))).isEqualTo(KafkaErrors.Kind.FATAL);
        assertThat(KafkaErrors.classify(new FencedInstanceIdException("same group.instance.id")))
                .isEqualTo(KafkaErrors.Kind.FATAL);
        assertThat(KafkaErrors.classify(errorState(new OutOfOrderSequenceException("gap"))))
                .isEqualTo(KafkaErrors.Kind.FATAL);
        assertThat(KafkaErrors.classify(new StreamsException(new TopicAuthorizationException("no write"))))
                .isEqualTo(KafkaErrors.Kind.FATAL);
        assertThat(KafkaErrors.classify(new StreamsException(new FatalException("backbone broken"))))
                .isEqualTo(KafkaErrors.Kind.FATAL);
        assertThat(KafkaErrors.classify(new StreamsException(thrownBy("io.headwater.trainer.LearnProcessor"))))
                .isEqualTo(KafkaErrors.Kind.FATAL);
        assertThat(KafkaErrors.classify(new NullPointerException())).isEqualTo(KafkaErrors.Kind.FATAL);
    }

    @Test
    void shouldTellRecordErrorsApartAndDescribeTheWholeChain() {
        assertThat(KafkaErrors.isRecordError(new RecordTooLargeException("big"))).isTrue();
        assertThat(KafkaErrors.isRecordError(new TimeoutException("slow"))).isFalse();
        assertThat(KafkaErrors.describe(errorState(new RecordTooLargeException("The message is 2000150 bytes"))))
                .isEqualTo("KafkaException: Cannot execute transactional method because we are in an error state"
                        + " <- RecordTooLargeException: The message is 2000150 bytes");
    }
}
