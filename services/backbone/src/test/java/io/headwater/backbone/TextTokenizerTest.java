package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TextTokenizerTest {

    private static final long CLS = 101;
    private static final long SEP = 102;
    private static final long PAD = 0;

    private static TextTokenizer tokenizer;

    @BeforeAll
    static void loadTokenizer() {
        tokenizer = TextTokenizer.bundled(BundledModel.ALL_MINILM_L6_V2_Q, 8);
    }

    @AfterAll
    static void closeTokenizer() {
        tokenizer.close();
    }

    @Test
    void shouldAddSpecialTokensAroundText() {
        // when
        List<TokenizedText> encoded = tokenizer.encode(List.of("hello world"));

        // then: [CLS] hello world [SEP] in the uncased BERT vocabulary
        assertThat(encoded).hasSize(1);
        assertThat(encoded.get(0).inputIds()).containsExactly(CLS, 7592, 2088, SEP);
        assertThat(encoded.get(0).tokenTypeIds()).containsOnly(0L);
    }

    @Test
    void shouldTruncateToMaxTokensKeepingSeparator() {
        // given
        String longText = "one two three four five six seven eight nine ten eleven twelve";

        // when
        TokenizedText encoded = tokenizer.encode(List.of(longText)).get(0);

        // then
        assertThat(encoded.length()).isEqualTo(8);
        assertThat(encoded.inputIds()[0]).isEqualTo(CLS);
        assertThat(encoded.inputIds()[7]).isEqualTo(SEP);
        assertThat(tokenizer.maxTokens()).isEqualTo(8);
    }

    @Test
    void shouldNotUseTruncationOrPaddingFromTokenizerJson() {
        // given: tokenizer.json says "truncate and pad to 128"; we ask for 300
        try (TextTokenizer wide = TextTokenizer.bundled(BundledModel.ALL_MINILM_L6_V2_Q, 300)) {
            String longText = String.join(" ", java.util.Collections.nCopies(400, "word"));

            // when
            List<TokenizedText> encoded = wide.encode(List.of(longText, "hi"));

            // then
            assertThat(encoded.get(0).length()).isEqualTo(300);
            assertThat(encoded.get(1).length()).isEqualTo(3);
        }
    }

    @Test
    void shouldEncodeEmptyStringAsSpecialTokensOnly() {
        // when
        TokenizedText encoded = tokenizer.encode(List.of("")).get(0);

        // then
        assertThat(encoded.inputIds()).containsExactly(CLS, SEP);
    }

    @Test
    void shouldPadToLongestWithMaskAndPadId() {
        // given
        List<TokenizedText> encoded = tokenizer.encode(List.of("hi", "hello world"));

        // when
        TokenBatch batch = tokenizer.pad(encoded);

        // then
        assertThat(batch.size()).isEqualTo(2);
        assertThat(batch.length()).isEqualTo(4);
        assertThat(batch.inputIds()[0]).containsExactly(CLS, encoded.get(0).inputIds()[1], SEP, PAD);
        assertThat(batch.inputIds()[1]).containsExactly(CLS, 7592, 2088, SEP);
        assertThat(batch.attentionMask()[0]).containsExactly(1, 1, 1, 0);
        assertThat(batch.attentionMask()[1]).containsExactly(1, 1, 1, 1);
        assertThat(batch.tokenTypeIds()[0]).containsExactly(0, 0, 0, 0);
    }

    @Test
    void shouldKeepInputOrder() {
        // given
        List<String> texts = List.of("a much longer sentence here", "short", "");

        // when
        List<TokenizedText> encoded = tokenizer.encode(texts);

        // then
        assertThat(encoded).extracting(TokenizedText::length).containsExactly(7, 3, 2);
    }

    @Test
    void shouldRejectNullTextNamingItsIndex() {
        // given
        List<String> texts = Arrays.asList("ok", null);

        // when / then
        assertThatThrownBy(() -> tokenizer.encode(texts))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("texts[1] cannot be null");
    }

    @Test
    void shouldRejectMaxTokensOutOfRange() {
        // when / then
        assertThatThrownBy(() -> TextTokenizer.bundled(BundledModel.ALL_MINILM_L6_V2_Q, 513))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.max.tokens must be in [8, 512], found 513");
    }
}
