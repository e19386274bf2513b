package io.headwater.core;

/** A component cannot go on (a model that will not load, a broker that fenced us off). */
public class FatalException extends HeadwaterException {
    private static final long serialVersionUID = 1L;

    public FatalException(String message) {
        super(message);
    }

    public FatalException(String message, Throwable cause) {
        super(message, cause);
    }
}
