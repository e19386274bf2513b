package io.headwater.client;

import io.headwater.core.BadRecordException;

/** A model update the client will not apply; {@link #reason()} is the short class for metrics. */
public final class RefusedUpdateException extends BadRecordException {
    private static final long serialVersionUID = 1L;
    /**
     * Every reason, for metrics registered up front. A client that trusts signing keys refuses an
     * update as {@code unsigned} (no signature), {@code untrusted_key} (signed under a key id it does
     * not trust: a rotation step missed, or a foreign signer) or {@code signature} (the signature
     * does not verify with the trusted key of that id: forged or altered).
     */
    public static final java.util.List<String> REASONS = java.util.List.of("format", "checksum", "artifact", "backbone",
            "unsigned", "untrusted_key", "signature");
    private final String reason;

    public RefusedUpdateException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** One of {@link #REASONS}. */
    public String reason() {
        return reason;
    }
}
