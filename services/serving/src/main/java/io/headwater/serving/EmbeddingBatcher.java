package io.headwater.serving;

import io.headwater.backbone.Backbone;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Embeds the texts of concurrent requests together: one thread takes whatever requests are waiting
 * (up to {@code maxTexts} texts, waiting at most {@code maxWaitMs} for more once one arrived), makes
 * one backbone call for all of them and hands each request its own rows. On a GPU one call for many
 * texts costs little more than one for a few; on a CPU the backbone spreads a call's texts over its
 * threads, which requests embedded one by one from a single HTTP thread would not.
 *
 * <pre>{@code
 * try (EmbeddingBatcher batcher = new EmbeddingBatcher(backbone, 64, 2, registry)) {
 *     float[][] vectors = batcher.embed(List.of("free money", "meeting at 3"));
 * }
 * }</pre>
 */
final class EmbeddingBatcher implements AutoCloseable {
    private record Job(List<String> texts, CompletableFuture<float[][]> result) {
    }

    private final Backbone backbone;
    private final int maxTexts;
    private final long maxWaitMs;
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final DistributionSummary batchSize;
    private final Thread thread;
    private volatile boolean running = true;

    EmbeddingBatcher(Backbone backbone, int maxTexts, long maxWaitMs, MeterRegistry registry) {
        this.backbone = backbone;
        this.maxTexts = maxTexts;
        this.maxWaitMs = maxWaitMs;
        this.batchSize = DistributionSummary.builder("headwater.serving.batch.size")
                .description("Texts per backbone call, over all the requests it served").baseUnit("texts")
                .publishPercentileHistogram().register(registry);
        this.thread = new Thread(this::run, "headwater-serving-batcher");
        thread.setDaemon(true);
        thread.start();
    }

    /** The texts' embeddings, in order; blocks until their batch is embedded. */
    float[][] embed(List<String> texts) {
        CompletableFuture<float[][]> f = new CompletableFuture<>();
        queue.add(new Job(List.copyOf(texts), f));
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while embedding", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void run() {
        List<Job> jobs = new ArrayList<>();
        while (running) {
            try {
                Job first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                jobs.add(first);
                int texts = first.texts().size();
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
                while (texts < maxTexts) {
                    Job next = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (next == null) {
                        break;
                    }
                    jobs.add(next);
                    texts += next.texts().size();
                }
                embed(jobs, texts);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                jobs.clear();
            }
        }
    }

    private void embed(List<Job> jobs, int count) {
        List<String> all = new ArrayList<>(count);
        jobs.forEach(j -> all.addAll(j.texts()));
        float[][] vectors;
        try {
            vectors = backbone.embed(all);
        } catch (RuntimeException e) {
            jobs.forEach(j -> j.result().completeExceptionally(e));
            return;
        }
        batchSize.record(count);
        int at = 0;
        for (Job j : jobs) {
            float[][] mine = new float[j.texts().size()][];
            System.arraycopy(vectors, at, mine, 0, mine.length);
            at += mine.length;
            j.result().complete(mine);
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        Job j;
        while ((j = queue.poll()) != null) {
            j.result().completeExceptionally(new IllegalStateException("serving is stopping"));
        }
    }
}
