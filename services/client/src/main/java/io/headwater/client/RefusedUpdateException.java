package io.headwater.client;

import io.headwater.core.BadRecordException;

/** A model update the client will not apply; {@link #reason()} is the short class for metrics. */
public final class RefusedUpdateException extends BadRecordException {
    private static final long serialVersionUID = 1L;
    private final String reason;

    public RefusedUpdateException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** One of {@code format}, {@code checksum}, {@code artifact}, {@code backbone}. */
    public String reason() {
        return reason;
    }
}
