package io.headwater.registry;

/**
 * The registry's bookkeeping of one task besides its versions.
 *
 * @param decisions     decisions recorded so far (the last {@code model-history} sequence number)
 * @param paused        candidates are rejected while true
 * @param pinnedVersion the pinned version, or 0; candidates are rejected while one is pinned
 */
public record TaskControl(long decisions, boolean paused, long pinnedVersion) {
    static final TaskControl NEW = new TaskControl(0, false, 0);

    TaskControl next() {
        return new TaskControl(decisions + 1, paused, pinnedVersion);
    }

    TaskControl withPaused(boolean p) {
        return new TaskControl(decisions, p, pinnedVersion);
    }

    TaskControl withPinned(long v) {
        return new TaskControl(decisions, paused, v);
    }
}
