package io.headwater.backbone;

import ai.djl.engine.EngineException;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.headwater.core.ConfigException;
import io.headwater.core.FatalException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pre-processing for a backbone: texts to token ids (truncated to {@code maxTokens}, special
 * tokens included), then a list of those to a padded {@link TokenBatch}. Runs without a model
 * session, so it can be tested on its own.
 *
 * <p>Backed by the Hugging Face tokenizers library through DJL, whose CPU native library ships in
 * its jar; DJL unpacks it under {@code DJL_CACHE_DIR} (default {@code ~/.djl.ai}), which must be
 * writable. On a machine with CUDA, DJL 0.38 would pick a CUDA flavour of that library, which is
 * not in the jar, and download it at run time. Loading this class therefore sets the system
 * property {@code RUST_FLAVOR=cpu} (DJL's override, read by
 * {@code ai.djl.huggingface.tokenizers.jni.LibUtils}) unless the environment or the JVM already
 * set {@code RUST_FLAVOR}: the tokenizer then always uses the bundled CPU library and never the
 * network. {@code -Dai.djl.offline=true} (or {@code DJL_OFFLINE=true}) also forces the CPU flavour
 * and keeps the rest of DJL off the network.
 *
 * <p>The truncation and padding settings inside {@code tokenizer.json} are overridden: the
 * MiniLM file, for example, says "truncate and pad to 128", which would silently cut every text
 * to 128 tokens and pad every one to 128.
 *
 * <pre>{@code
 * try (TextTokenizer tokenizer = TextTokenizer.bundled(BundledModel.ALL_MINILM_L6_V2_Q, 256)) {
 *     List<TokenizedText> texts = tokenizer.encode(List.of("short", "a longer text"));
 *     TokenBatch batch = tokenizer.pad(texts);
 * }
 * }</pre>
 *
 * <p>Thread-safe: encoding may run on several threads at once; {@link #close()} must not.
 */
public final class TextTokenizer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TextTokenizer.class);

    /** DJL's override of the native library flavour (environment variable or system property). */
    static final String RUST_FLAVOR = "RUST_FLAVOR";

    static {
        pinCpuNativeLibrary();
    }

    private final HuggingFaceTokenizer tokenizer;
    private final int maxTokens;
    private final long padTokenId;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxTokens, long padTokenId) {
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.padTokenId = padTokenId;
    }

    /** The tokenizer of a bundled backbone, read from the classpath. */
    public static TextTokenizer bundled(BundledModel model, int maxTokens) {
        Objects.requireNonNull(model, "model cannot be null");
        String resource = model.tokenizerResource();
        try (InputStream json = TextTokenizer.class.getResourceAsStream(resource)) {
            if (json == null) {
                throw new FatalException("Tokenizer resource " + resource + " of backbone "
                        + model.id() + " is not on the classpath");
            }
            return fromJson(json, resource, maxTokens, model.padTokenId());
        } catch (IOException e) {
            throw new FatalException("Failed to read tokenizer resource " + resource, e);
        }
    }

    /**
     * A tokenizer from a Hugging Face {@code tokenizer.json} stream, which is read but not closed.
     *
     * @param source where the stream came from, for error messages
     * @param maxTokens texts are truncated to this many tokens, special tokens included
     * @param padTokenId id used to pad short texts in a batch
     */
    public static TextTokenizer fromJson(InputStream json, String source, int maxTokens, long padTokenId) {
        Objects.requireNonNull(json, "json cannot be null");
        Objects.requireNonNull(source, "source cannot be null");
        if (maxTokens < BackboneSpec.MIN_TOKENS || maxTokens > BackboneSpec.MAX_TOKENS) {
            throw new ConfigException("backbone.max.tokens must be in [" + BackboneSpec.MIN_TOKENS + ", "
                    + BackboneSpec.MAX_TOKENS + "], found " + maxTokens);
        }
        Map<String, String> options = Map.of(
                "addSpecialTokens", "true",
                "truncation", "true",
                "padding", "false",
                "maxLength", Integer.toString(maxTokens),
                "modelMaxLength", Integer.toString(BackboneSpec.MAX_TOKENS));
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(json, options);
            log.debug("Loaded tokenizer {} (maxTokens {}, truncation {}, padding {})",
                    source, tokenizer.getMaxLength(), tokenizer.getTruncation(), tokenizer.getPadding());
            return new TextTokenizer(tokenizer, maxTokens, padTokenId);
        } catch (IOException e) {
            throw new FatalException("Failed to load tokenizer " + source, e);
        } catch (EngineException | LinkageError e) {
            // LinkageError: the library's static initialiser failed (ExceptionInInitializerError,
            // then NoClassDefFoundError on later tries) or the .so would not load.
            throw new FatalException("Failed to load the native tokenizers library for " + source
                    + " (is DJL_CACHE_DIR or ~/.djl.ai writable? RUST_FLAVOR is '"
                    + Optional.ofNullable(System.getenv(RUST_FLAVOR)).orElse(System.getProperty(RUST_FLAVOR)) + "')", e);
        }
    }

    /**
     * Makes DJL load the CPU tokenizers library bundled in its jar, never download a CUDA build:
     * sets {@code RUST_FLAVOR=cpu} unless it is already set. Must run before DJL's
     * {@code LibUtils} class initialises, which is on the first {@code HuggingFaceTokenizer}.
     */
    static void pinCpuNativeLibrary() {
        if (System.getenv(RUST_FLAVOR) == null && System.getProperty(RUST_FLAVOR) == null) {
            System.setProperty(RUST_FLAVOR, "cpu");
        }
    }

    /** Texts are truncated to this many tokens, special tokens included. */
    public int maxTokens() {
        return maxTokens;
    }

    /**
     * Tokenizes each text, in order. An empty string gives just the special tokens
     * ({@code [CLS] [SEP]}).
     */
    public List<TokenizedText> encode(List<String> texts) {
        Objects.requireNonNull(texts, "texts cannot be null");
        for (int i = 0; i < texts.size(); i++) {
            Objects.requireNonNull(texts.get(i), "texts[" + i + "] cannot be null");
        }
        if (texts.isEmpty()) {
            return List.of();
        }
        Encoding[] encodings = tokenizer.batchEncode(texts, true, false);
        List<TokenizedText> result = new ArrayList<>(encodings.length);
        for (Encoding encoding : encodings) {
            result.add(new TokenizedText(encoding.getIds(), encoding.getTypeIds()));
        }
        return result;
    }

    /** Pads texts to the longest of them; padded positions get mask 0, type 0 and the pad id. */
    public TokenBatch pad(List<TokenizedText> texts) {
        Objects.requireNonNull(texts, "texts cannot be null");
        int size = texts.size();
        int length = 0;
        for (TokenizedText text : texts) {
            length = Math.max(length, text.length());
        }
        long[][] ids = new long[size][length];
        long[][] mask = new long[size][length];
        long[][] types = new long[size][length];
        for (int row = 0; row < size; row++) {
            TokenizedText text = texts.get(row);
            int n = text.length();
            System.arraycopy(text.inputIds(), 0, ids[row], 0, n);
            System.arraycopy(text.tokenTypeIds(), 0, types[row], 0, n);
            Arrays.fill(mask[row], 0, n, 1L);
            Arrays.fill(ids[row], n, length, padTokenId);
        }
        return new TokenBatch(ids, mask, types);
    }

    /** Releases the native tokenizer; never throws. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
