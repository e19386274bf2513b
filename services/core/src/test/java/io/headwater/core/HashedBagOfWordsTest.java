package io.headwater.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class HashedBagOfWordsTest {
    final HashedBagOfWords bow = new HashedBagOfWords(14);

    @Test
    void shouldSplitLowerCasedWordsOnAnythingButLettersAndDigits() {
        assertThat(HashedBagOfWords.words("Cheap MEDS, no-prescription!! 100% Café"))
                .containsExactly("cheap", "meds", "no", "prescription", "100", "café");
        assertThat(HashedBagOfWords.words("  ...  ")).isEmpty();
    }

    @Test
    void shouldGiveAUnitVectorOfUnigramsAndBigramsWithIncreasingIndicesBelowTheDimension() {
        SparseVector v = bow.features("the cat sat on the mat");
        assertThat(bow.dimension()).isEqualTo(16384);
        assertThat(v.norm()).isCloseTo(1.0, within(1e-6));
        // 6 unigrams (the twice) + 5 bigrams, at most 10 distinct terms; collisions can only merge
        assertThat(v.size()).isBetween(8, 10);
        assertThat(v.indices()).isSorted();
        assertThat(java.util.Arrays.stream(v.indices()).allMatch(i -> i >= 0 && i < 16384)).isTrue();
    }

    @Test
    void shouldCountARepeatedWordTwice() {
        SparseVector once = bow.features("spam");
        SparseVector twice = bow.features("spam ham spam");
        int i = once.indices()[0];
        int at = java.util.Arrays.binarySearch(twice.indices(), i);
        assertThat(at).isGreaterThanOrEqualTo(0);
        // "spam" counts 2 of the 5 terms (spam, ham, spam, "spam ham", "ham spam"); norm sqrt(4+1+1+1) = sqrt(7)
        assertThat(Math.abs(twice.values()[at])).isCloseTo((float) (2 / Math.sqrt(7)), within(1e-6f));
    }

    @Test
    void shouldBeDeterministicAndOrderSensitiveThroughBigrams() {
        assertThat(bow.features("dog bites man").indices()).isEqualTo(bow.features("dog bites man").indices());
        SparseVector a = bow.features("dog bites man");
        SparseVector b = bow.features("man bites dog");
        assertThat(cosine(a, b)).isLessThan(0.99).isGreaterThan(0.2);
    }

    @Test
    void shouldScoreSharedWordsAboveUnrelatedTexts() {
        SparseVector a = bow.features("free money win a prize now");
        SparseVector b = bow.features("win free money today");
        SparseVector c = bow.features("the meeting moved to thursday afternoon");
        assertThat(cosine(a, b)).isGreaterThan(cosine(a, c) + 0.3);
    }

    @Test
    void shouldGiveAnEmptyVectorForATextWithoutWords() {
        assertThat(bow.features("!!! ???").size()).isZero();
        assertThat(bow.features("").size()).isZero();
    }

    @Test
    void shouldRefuseBucketBitsOutOfRangeNamingTheValue() {
        assertThatThrownBy(() -> new HashedBagOfWords(3)).isInstanceOf(ConfigException.class).hasMessageContaining("found 3");
        assertThatThrownBy(() -> new HashedBagOfWords(25)).isInstanceOf(ConfigException.class).hasMessageContaining("found 25");
        assertThat(new HashedBagOfWords(12).dimension()).isEqualTo(4096);
    }

    static double cosine(SparseVector a, SparseVector b) {
        double[] dense = new double[1 << 14];
        for (int i = 0; i < b.size(); i++) {
            dense[b.indices()[i]] = b.values()[i];
        }
        return a.dot(dense) / (a.norm() * b.norm());
    }
}
