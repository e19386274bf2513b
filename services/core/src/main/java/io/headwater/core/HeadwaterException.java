package io.headwater.core;

/**
 * The root of every exception Headwater throws. Unchecked; subclasses say what the caller can do:
 * {@link BadRecordException} (skip the record, send it to a dead-letter topic),
 * {@link ConfigException} (stop start-up and show the message) and
 * {@link FatalException} (the component cannot go on).
 */
public class HeadwaterException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HeadwaterException(String message) {
        super(message);
    }

    public HeadwaterException(String message, Throwable cause) {
        super(message, cause);
    }
}
