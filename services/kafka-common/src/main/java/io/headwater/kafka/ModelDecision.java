package io.headwater.kafka;

/**
 * One entry of {@code model-history}: what the registry decided about a candidate or an operator's
 * command, and why ({@code schemas/model-decision.schema.json}). Key: {@code task@sequence}, where
 * the sequence numbers a task's decisions 1, 2, 3, ...
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param task          the task
 * @param sequence      1, 2, 3, ... per task, over all decisions
 * @param decision      {@link #PROMOTED}, {@link #REJECTED}, or an operator's action
 *                      ({@code rollback}, {@code pin}, {@code unpin}, {@code pause}, {@code resume}),
 *                      or {@link #REFUSED} for a command that could not be applied
 * @param reason        why: for rejections one of {@code invalid}, {@code gate}, {@code floor},
 *                      {@code min_examples}, {@code paused}, {@code pinned}; free text after a colon
 * @param version       the version published by this decision, 0 when none was
 * @param candidate     the candidate decided on; null for commands
 * @param update        the update published; null when none was
 * @param actor         {@code gate} for candidates, else who sent the command
 * @param at            ISO-8601 instant of the decision
 */
public record ModelDecision(int formatVersion, String task, long sequence, String decision, String reason,
                            long version, Candidate candidate, ModelUpdate update, String actor, String at) {
    public static final int FORMAT_VERSION = 1;
    public static final String PROMOTED = "promoted";
    public static final String REJECTED = "rejected";
    public static final String REFUSED = "refused";

    /**
     * What the registry saw of a candidate.
     *
     * @param headType       e.g. {@code lda}
     * @param metrics        the candidate's test-then-train figures
     * @param artifactSha256 SHA-256 of its artifact, when it decoded
     * @param createdAt      when the trainer proposed it
     * @param offset         where it was on {@code model-candidates}, {@code partition@offset}
     */
    public record Candidate(String headType, ModelMetrics metrics, String artifactSha256, String createdAt,
                            String offset) {
    }

    /** The reason's code, without any detail after a colon. */
    public String reasonCode() {
        if (reason == null) {
            return "";
        }
        int colon = reason.indexOf(':');
        return colon < 0 ? reason : reason.substring(0, colon);
    }
}
