package io.headwater.backbone;

import java.util.Objects;

/**
 * One text after tokenization, before padding: its token ids and token type ids, special tokens
 * included, already truncated. Every position is a real token (attention mask of 1).
 *
 * <p>The arrays are shared, not copied, to keep the hot path free of copies: do not change them.
 *
 * <pre>{@code
 * TokenizedText text = tokenizer.encode(List.of("hello world")).get(0);
 * int tokens = text.length(); // 4: [CLS] hello world [SEP]
 * }</pre>
 *
 * @param inputIds token ids
 * @param tokenTypeIds segment ids, same length as {@code inputIds}
 */
public record TokenizedText(long[] inputIds, long[] tokenTypeIds) {

    public TokenizedText {
        Objects.requireNonNull(inputIds, "inputIds cannot be null");
        Objects.requireNonNull(tokenTypeIds, "tokenTypeIds cannot be null");
        if (inputIds.length != tokenTypeIds.length) {
            throw new IllegalArgumentException("inputIds and tokenTypeIds differ in length: "
                    + inputIds.length + " vs " + tokenTypeIds.length);
        }
    }

    /** Number of tokens. */
    public int length() {
        return inputIds.length;
    }
}
