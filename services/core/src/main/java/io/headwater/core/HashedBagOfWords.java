package io.headwater.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Text features that need no pretrained model: word unigrams and bigrams hashed into
 * {@code 2^bits} buckets (signed, so colliding words tend to cancel rather than add up), term
 * counts, then L2-normalised. The from-scratch baseline the backbone's embeddings are measured
 * against.
 *
 * <p>Words are maximal runs of letters and digits, lower-cased (ROOT locale); a bigram is two
 * neighbouring words. The hash is FNV-1a (64 bit) of the term's characters, finalised with a
 * 64-bit mixer: the same text gives the same vector on every JVM.
 *
 * <pre>{@code
 * HashedBagOfWords bow = new HashedBagOfWords(14);    // 16,384 buckets
 * SparseVector v = bow.features("Cheap meds, no prescription!");
 * // v.norm() == 1 (unless the text has no words: then v.size() == 0)
 * }</pre>
 */
public final class HashedBagOfWords {
    public static final int MIN_BITS = 4;
    public static final int MAX_BITS = 24;

    private final int bits;
    private final int mask;

    public HashedBagOfWords(int bits) {
        if (bits < MIN_BITS || bits > MAX_BITS) {
            throw new ConfigException("hashed bag-of-words bits must be in [" + MIN_BITS + ", " + MAX_BITS + "], found " + bits);
        }
        this.bits = bits;
        this.mask = (1 << bits) - 1;
    }

    /** Number of buckets, {@code 2^bits}: the dimension of every vector this makes. */
    public int dimension() {
        return 1 << bits;
    }

    /** The lower-cased words of a text, in order. */
    public static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= text.length(); ) {
            int cp = i < text.length() ? text.codePointAt(i) : ' ';
            boolean word = Character.isLetterOrDigit(cp);
            if (word && start < 0) {
                start = i;
            } else if (!word && start >= 0) {
                words.add(text.substring(start, i).toLowerCase(Locale.ROOT));
                start = -1;
            }
            i += i < text.length() ? Character.charCount(cp) : 1;
        }
        return words;
    }

    /** The hashed, L2-normalised unigram and bigram counts of a text. */
    public SparseVector features(String text) {
        List<String> words = words(text);
        int terms = words.isEmpty() ? 0 : 2 * words.size() - 1;
        long[] hashes = new long[terms];
        int n = 0;
        for (int i = 0; i < words.size(); i++) {
            hashes[n++] = mix(fnv(FNV_OFFSET, words.get(i)));
            if (i > 0) {
                // The space cannot occur inside a word, so "a b" never collides with a unigram by construction.
                hashes[n++] = mix(fnv(fnv(fnv(FNV_OFFSET, words.get(i - 1)), " "), words.get(i)));
            }
        }
        // Sort by bucket so equal buckets are adjacent and the result's indices increase.
        long[] keyed = new long[terms];
        for (int i = 0; i < terms; i++) {
            long bucket = hashes[i] & mask;
            long sign = (hashes[i] >>> 63) == 0 ? 1 : 0;
            keyed[i] = (bucket << 1) | sign;
        }
        Arrays.sort(keyed);
        int[] idx = new int[terms];
        float[] val = new float[terms];
        int m = 0;
        for (int i = 0; i < terms; i++) {
            int bucket = (int) (keyed[i] >>> 1);
            float v = (keyed[i] & 1) == 1 ? 1f : -1f;
            if (m > 0 && idx[m - 1] == bucket) {
                val[m - 1] += v;
            } else {
                idx[m] = bucket;
                val[m] = v;
                m++;
            }
        }
        // Drop buckets whose terms cancelled out exactly.
        int k = 0;
        double norm = 0;
        for (int i = 0; i < m; i++) {
            if (val[i] != 0) {
                idx[k] = idx[i];
                val[k] = val[i];
                norm += (double) val[i] * val[i];
                k++;
            }
        }
        float inv = k == 0 ? 0 : (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < k; i++) {
            val[i] *= inv;
        }
        return new SparseVector(Arrays.copyOf(idx, k), Arrays.copyOf(val, k));
    }

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private static long fnv(long h, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            h = (h ^ (c & 0xff)) * FNV_PRIME;
            h = (h ^ (c >>> 8)) * FNV_PRIME;
        }
        return h;
    }

    /** SplitMix64's finaliser: spreads FNV's weak low bits over the whole word. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
