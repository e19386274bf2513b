package io.headwater.kafka;

import java.util.Locale;

/**
 * An operator's instruction to the registry, written by its HTTP API to the internal
 * {@code registry-commands} topic (key = task) and applied in order with the task's candidates.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param id            unique id, echoed in {@code model-history}
 * @param task          the task
 * @param action        what to do
 * @param version       the version to roll back to or pin; 0 where the action takes none
 * @param actor         who asked (from the API call), for the audit trail
 * @param reason        why, free text
 * @param requestedAt   ISO-8601 instant
 */
public record RegistryCommand(int formatVersion, String id, String task, Action action, long version, String actor,
                              String reason, String requestedAt) {
    public static final int FORMAT_VERSION = 1;

    /** The admin actions. */
    public enum Action {
        /** Republish {@code version}'s head as a new version; later candidates are gated as usual. */
        ROLLBACK,
        /** Republish {@code version}'s head (unless it is current) and reject candidates until unpinned. */
        PIN,
        UNPIN,
        /** Reject candidates until resumed. */
        PAUSE,
        RESUME;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
