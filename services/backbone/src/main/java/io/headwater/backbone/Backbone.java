package io.headwater.backbone;

import io.headwater.core.ConfigException;
import io.headwater.core.FatalException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A frozen pretrained text encoder: texts in, one L2-normalised vector per text out. Composes the
 * three pieces of a DJL-style translator: {@link TextTokenizer} (pre-processing), an ONNX Runtime
 * session (execution) and {@link Pooling} (post-processing).
 *
 * <p>{@link #embed} tokenizes every text (truncating to {@link BackboneSpec#maxTokens()}), sorts
 * the texts by token length and runs them in one of two ways, chosen by the model:
 * <ul>
 *   <li><b>padded batches</b> of {@link BackboneSpec#batchSize()} neighbours in length, so each
 *       batch pads as little as possible (on mixed text that is worth 3-4x over unsorted batches);
 *   <li><b>row by row</b>, several texts at once on {@code intraOpThreads} threads, for models
 *       whose rows interact ({@link BundledModel#rowsInteract()}, {@link UserModel#rowsInteract()};
 *       e.g. the int8 MiniLM and bge): batching
 *       would make a text's embedding depend on its batch-mates.
 * </ul>
 * Either way the vectors come back in input order, and the embedding of a text does not depend on
 * what else is in the list.
 *
 * <p>The model is a {@link BundledModel} or a {@link UserModel} (an ONNX file and its
 * {@code tokenizer.json}); it runs on the CPU or a CUDA device as {@link BackboneSpec#provider()}
 * says ({@link ExecutionProvider}); {@link #provider()} tells which was used.
 *
 * <pre>{@code
 * try (Backbone backbone = Backbone.load(BackboneSpec.defaults())) {
 *     float[][] vectors = backbone.embed(List.of("a cat sat", "stocks fell sharply"));
 *     // vectors.length == 2, vectors[0].length == backbone.dimension() == 384
 *     String expects = backbone.id() + "@" + backbone.sha256(); // what a head is built for
 *     String where = backbone.provider();                        // "cpu" or "cuda:0"
 * }
 * }</pre>
 *
 * <p>Thread-safe: {@link #embed} may be called from several threads; {@link #close()} must not
 * race with it.
 */
public final class Backbone implements Embedder {

    /**
     * How texts are grouped into session runs. {@link #load(BackboneSpec)} picks
     * {@link #ROW_BY_ROW} for models whose rows interact and {@link #PADDED_BATCHES} otherwise;
     * {@link #UNSORTED_BATCHES} exists to measure what length grouping is worth.
     */
    public enum Execution {
        /** Texts sorted by length, padded to their batch's longest, {@code batchSize} per run. */
        PADDED_BATCHES,
        /** One unpadded text per run, several runs at once, each on one thread. */
        ROW_BY_ROW,
        /** Texts in arrival order, padded to their batch's longest: the naive baseline. */
        UNSORTED_BATCHES
    }

    private static final Logger log = LoggerFactory.getLogger(Backbone.class);

    /** Run once at load: a text every tokenizer turns into a few real tokens. */
    private static final String PROBE_TEXT = "Headwater backbone probe.";

    private final ModelSource model;
    private final BackboneSpec spec;
    private final Execution execution;
    private final TextTokenizer tokenizer;
    private final OnnxEncoder encoder;
    private final int workers;
    private final Optional<ExecutorService> helpers;
    private final AtomicLong calls = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Backbone(ModelSource model, BackboneSpec spec, Execution execution, TextTokenizer tokenizer,
            OnnxEncoder encoder, int workers) {
        this.model = model;
        this.spec = spec;
        this.execution = execution;
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.workers = workers;
        this.helpers = workers > 1 ? Optional.of(newHelperPool(model.id(), workers - 1)) : Optional.empty();
    }

    /**
     * Loads the backbone the spec asks for: a bundled one from the classpath, or its
     * {@link BackboneSpec#userModel()} from files, on the spec's execution provider. Runs the model
     * once on a probe text, so a model or provider that cannot work fails here rather than on the
     * first record.
     *
     * @throws ConfigException if no bundled backbone has that name (the message lists the known
     *     ones), a file is missing, the graph's inputs or output do not fit the spec (the message
     *     names the file and the mismatch), or {@code backbone.provider=cuda} and CUDA cannot be used
     * @throws FatalException if the model or tokenizer cannot be read or loaded
     */
    public static Backbone load(BackboneSpec spec) {
        Objects.requireNonNull(spec, "spec cannot be null");
        long start = System.nanoTime();
        ModelSource model = ModelSource.of(spec);
        return load(spec, model, model.rowsInteract() ? Execution.ROW_BY_ROW : Execution.PADDED_BATCHES, start);
    }

    /** As {@link #load(BackboneSpec)}, forcing how texts are run: for tests and measurements. */
    public static Backbone load(BackboneSpec spec, Execution execution) {
        Objects.requireNonNull(spec, "spec cannot be null");
        Objects.requireNonNull(execution, "execution cannot be null");
        long start = System.nanoTime();
        return load(spec, ModelSource.of(spec), execution, start);
    }

    private static Backbone load(BackboneSpec spec, ModelSource model, Execution execution, long start) {
        if (model.dynamicallyQuantized() && !model.rowsInteract()) {
            log.warn("Model {} is dynamically int8-quantised (DynamicQuantizeLinear): in a padded batch its "
                    + "texts change each other's vectors. Set backbone.row.by.row=true to keep each "
                    + "vector a function of its text alone", model.source());
        }
        // Row by row: each run on its caller's thread (intra-op 1), spec.intraOpThreads() runs at
        // once. Two single-threaded runs on two cores beat one two-threaded batched run.
        int workers = execution == Execution.ROW_BY_ROW
                ? (spec.intraOpThreads() > 0 ? spec.intraOpThreads() : Runtime.getRuntime().availableProcessors())
                : 1;
        int sessionThreads = execution == Execution.ROW_BY_ROW ? 1 : spec.intraOpThreads();
        TextTokenizer tokenizer = model.openTokenizer(spec.maxTokens());
        OnnxEncoder encoder;
        try {
            TokenBatch probe = tokenizer.pad(tokenizer.encode(List.of(PROBE_TEXT)));
            encoder = OnnxEncoder.create(model, spec.provider(), spec.deviceId(), sessionThreads, probe);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        log.info("Loaded backbone {} (sha256 {}, dimension {}, {} pooling, maxTokens {}) on {}, {}, intra-op "
                        + "threads {}, workers {}, in {} ms",
                model.id(), model.sha256(), encoder.dimension(), model.pooling().name().toLowerCase(Locale.ROOT),
                spec.maxTokens(), encoder.provider(),
                execution == Execution.ROW_BY_ROW ? "row by row"
                        : (execution == Execution.UNSORTED_BATCHES ? "unsorted " : "") + "padded batches of "
                        + spec.batchSize(),
                sessionThreads == 0 ? "default" : sessionThreads, workers,
                (System.nanoTime() - start) / 1_000_000);
        return new Backbone(model, spec, execution, tokenizer, encoder, workers);
    }

    /** Stable id of the backbone, e.g. {@code "all-minilm-l6-v2-q"}, or a user model's id. */
    @Override
    public String id() {
        return model.id();
    }

    /** Lower-case hex SHA-256 of the ONNX model bytes. */
    @Override
    public String sha256() {
        return model.sha256();
    }

    /** Width of every vector {@link #embed} returns, as measured on the model at load. */
    @Override
    public int dimension() {
        return encoder.dimension();
    }

    /** How per-token states are pooled into one vector. */
    public PoolingMode pooling() {
        return model.pooling();
    }

    /**
     * Where the model runs: {@code "cpu"}, or {@code "cuda:<device id>"} such as {@code "cuda:0"}.
     * With {@link ExecutionProvider#AUTO} this is what was chosen.
     */
    @Override
    public String provider() {
        return encoder.provider();
    }

    /** Whether texts run one per session run (the model's rows interact) rather than in padded batches. */
    public boolean rowByRow() {
        return execution == Execution.ROW_BY_ROW;
    }

    /** The spec this backbone was loaded with. */
    public BackboneSpec spec() {
        return spec;
    }

    /**
     * One L2-normalised vector per text, in input order. Texts longer than
     * {@link BackboneSpec#maxTokens()} are truncated; an empty string is embedded as just
     * {@code [CLS] [SEP]}. An empty list gives an empty array and runs nothing.
     *
     * @throws NullPointerException if the list or one of its texts is null
     * @throws FatalException if ONNX Runtime fails on a batch
     */
    public float[][] embed(List<String> texts) {
        Objects.requireNonNull(texts, "texts cannot be null");
        if (closed.get()) {
            throw new IllegalStateException("Backbone " + id() + " is closed");
        }
        if (texts.isEmpty()) {
            return new float[0][];
        }
        List<TokenizedText> tokenized = tokenizer.encode(texts);
        int[] order = execution == Execution.UNSORTED_BATCHES
                ? java.util.stream.IntStream.range(0, texts.size()).toArray() : byLength(tokenized);
        float[][] vectors = new float[texts.size()][];
        if (execution == Execution.ROW_BY_ROW) {
            embedRowByRow(tokenized, order, vectors);
        } else {
            for (int[] batch : batches(order, spec.batchSize())) {
                embedBatch(tokenized, batch, vectors);
            }
        }
        return vectors;
    }

    /** Number of ONNX Runtime session runs so far. */
    @Override
    public long calls() {
        return calls.get();
    }

    /** Closes the session, the tokenizer and the worker threads; idempotent, never throws. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            helpers.ifPresent(ExecutorService::shutdown);
            encoder.close();
            tokenizer.close();
            log.debug("Closed backbone {} after {} runs", id(), calls.get());
        }
    }

    /** Indices of the texts, shortest first; ties keep input order. */
    static int[] byLength(List<TokenizedText> tokenized) {
        Integer[] order = new Integer[tokenized.size()];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingInt(i -> tokenized.get(i).length()));
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    /** Consecutive slices of {@code order}, each at most {@code batchSize} long. */
    static List<int[]> batches(int[] order, int batchSize) {
        List<int[]> batches = new ArrayList<>((order.length + batchSize - 1) / batchSize);
        for (int start = 0; start < order.length; start += batchSize) {
            batches.add(Arrays.copyOfRange(order, start, Math.min(start + batchSize, order.length)));
        }
        return batches;
    }

    private void embedBatch(List<TokenizedText> tokenized, int[] rows, float[][] vectors) {
        List<TokenizedText> chunk = new ArrayList<>(rows.length);
        for (int row : rows) {
            chunk.add(tokenized.get(row));
        }
        TokenBatch batch = tokenizer.pad(chunk);
        float[][][] hidden = encoder.run(batch);
        calls.incrementAndGet();
        float[][] pooled = Pooling.pool(model.pooling(), hidden, batch.attentionMask());
        for (int j = 0; j < rows.length; j++) {
            vectors[rows[j]] = pooled[j];
        }
    }

    private void embedRowByRow(List<TokenizedText> tokenized, int[] order, float[][] vectors) {
        // Longest first, so the last rows to finish are short ones and the threads end together.
        AtomicInteger next = new AtomicInteger(order.length - 1);
        Runnable work = () -> {
            for (int k = next.getAndDecrement(); k >= 0; k = next.getAndDecrement()) {
                embedBatch(tokenized, new int[] {order[k]}, vectors);
            }
        };
        int helperCount = Math.min(workers, order.length) - 1;
        if (helperCount <= 0 || helpers.isEmpty()) {
            work.run();
            return;
        }
        List<Future<?>> futures = new ArrayList<>(helperCount);
        try {
            for (int i = 0; i < helperCount; i++) {
                futures.add(helpers.get().submit(work));
            }
            work.run();
            for (Future<?> future : futures) {
                future.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw new FatalException("Failed to embed with backbone " + id(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while embedding with backbone " + id(), e);
        } finally {
            // On failure or interrupt, helpers still running stop after their current row.
            next.set(-1);
        }
    }

    private static ExecutorService newHelperPool(String id, int threads) {
        AtomicInteger count = new AtomicInteger();
        return Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "headwater-backbone-" + id + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }
}
