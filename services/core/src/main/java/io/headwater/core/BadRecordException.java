package io.headwater.core;

/** One input record cannot be used; the stream goes on without it. The message is the reason. */
public class BadRecordException extends HeadwaterException {
    private static final long serialVersionUID = 1L;

    public BadRecordException(String message) {
        super(message);
    }

    public BadRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
