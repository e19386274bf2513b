package io.headwater.backbone;

import java.util.Objects;

/**
 * A batch of texts padded to its longest member: the three int64 inputs of a BERT-style encoder,
 * each {@code [size][length]}. Padded positions have attention mask 0.
 *
 * <p>The arrays are shared, not copied: do not change them.
 *
 * <pre>{@code
 * TokenBatch batch = tokenizer.pad(tokenizer.encode(List.of("a", "a longer text")));
 * long[][] mask = batch.attentionMask(); // [[1,1,1,0,0], [1,1,1,1,1]]
 * }</pre>
 *
 * @param inputIds token ids, padded with the tokenizer's pad id
 * @param attentionMask 1 for a real token, 0 for padding
 * @param tokenTypeIds segment ids, 0 for padding
 */
public record TokenBatch(long[][] inputIds, long[][] attentionMask, long[][] tokenTypeIds) {

    public TokenBatch {
        Objects.requireNonNull(inputIds, "inputIds cannot be null");
        Objects.requireNonNull(attentionMask, "attentionMask cannot be null");
        Objects.requireNonNull(tokenTypeIds, "tokenTypeIds cannot be null");
        if (attentionMask.length != inputIds.length || tokenTypeIds.length != inputIds.length) {
            throw new IllegalArgumentException("batch arrays differ in size");
        }
    }

    /** Number of texts in the batch. */
    public int size() {
        return inputIds.length;
    }

    /** Padded sequence length (0 for an empty batch). */
    public int length() {
        return inputIds.length == 0 ? 0 : inputIds[0].length;
    }
}
