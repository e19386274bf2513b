package io.headwater.serving;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.Embedder;
import io.headwater.client.ModelClient;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.StageHealth;
import io.headwater.kafka.Topics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * The serving service: a {@link ModelClient} that follows model updates, behind
 * {@code POST /predict} ({@link PredictHandler}), {@code GET /health} (up once the client serves a
 * version) and {@code GET /metrics}, all on one port: {@code serving.bind.address}, over HTTPS when
 * {@code serving.tls.keystore.location} is set.
 *
 * <pre>{@code
 * try (Serving s = Serving.start(new ServingConfig(props), backbone, registry)) {
 *     // curl -d '{"task":"spam","text":"free money"}' localhost:8080/predict
 * }
 * }</pre>
 *
 * <p>With {@link TaskBackbone} rules (named backbones, the image backbone), their tasks are served
 * beside the default backbone's on the same port, routed as the extractor routes them: each
 * backbone's client follows its own tasks' versions, verified against that backbone, and image
 * tasks' requests carry base64 images.
 */
public final class Serving implements AutoCloseable {
    private final List<PredictHandler.Side> rules;
    private final PredictHandler.Side fallback;
    private final MetricsServer server;

    private Serving(List<PredictHandler.Side> rules, PredictHandler.Side fallback, MetricsServer server) {
        this.rules = rules;
        this.fallback = fallback;
        this.server = server;
    }

    public static Serving start(ServingConfig config, Backbone backbone, PrometheusMeterRegistry registry) {
        return start(config, backbone, List.of(), registry);
    }

    /**
     * Serves each task with the first of {@code rules} whose tasks match it, as the extractor routes
     * (named backbones in {@code backbones} order, then the image backbone), and every other task
     * with the default text {@code backbone}. Each backbone gets a client of its own that follows
     * only its tasks' versions and refuses versions built for another backbone.
     */
    public static Serving start(ServingConfig config, Backbone backbone, List<TaskBackbone> rules,
            PrometheusMeterRegistry registry) {
        Pattern served = config.tasks();
        List<Pattern> patterns = rules.stream().map(TaskBackbone::tasks).toList();
        List<PredictHandler.Side> sides = new ArrayList<>();
        PredictHandler.Side fallback = null;
        MetricsServer server = null;
        try {
            for (int i = 0; i < rules.size(); i++) {
                TaskBackbone r = rules.get(i);
                sides.add(side(config, registry, r.rule(), r.backbone(), Optional.of(r.tasks()),
                        follows(served, Optional.of(r.tasks()), patterns.subList(0, i))));
            }
            fallback = side(config, registry, "the default backbone", backbone, Optional.empty(),
                    follows(served, Optional.empty(), patterns));
            server = MetricsServer.start(config.endpoint(), registry, config.httpThreads());
        } catch (RuntimeException e) {
            sides.forEach(PredictHandler.Side::close);
            if (fallback != null) {
                fallback.close();
            }
            throw e;
        }
        List<PredictHandler.Side> all = List.copyOf(sides);
        server.addHandler("/predict", new PredictHandler(all, fallback, registry, config.requestMaxBytes()));
        StageHealth health = health(sides(all, fallback));
        server.addHealth(health);
        StageHealth.bindGauges(health, registry);
        return new Serving(all, fallback, server);
    }

    /**
     * The tasks a side's client follows: those serving serves that match its rule ({@code rule};
     * empty for the default side, which takes the rest) and none of the rules before it.
     */
    static Pattern follows(Pattern served, Optional<Pattern> rule, List<Pattern> before) {
        StringBuilder p = new StringBuilder();
        for (Pattern b : before) {
            p.append("(?!(?:").append(b.pattern()).append(")\\z)");
        }
        if (rule.isPresent()) {
            p.append("(?=(?:").append(served.pattern()).append(")\\z)(?:").append(rule.get().pattern()).append(')');
        } else {
            p.append("(?:").append(served.pattern()).append(')');
        }
        return Pattern.compile(p.toString());
    }

    private static PredictHandler.Side side(ServingConfig config, PrometheusMeterRegistry registry, String rule,
            Embedder backbone, Optional<Pattern> tasks, Pattern follows) {
        ModelClient.Builder builder = clientBuilder(config, registry).tasks(follows);
        if (backbone instanceof Backbone text) {
            ModelClient client = builder.backbone(text).build().start();
            return new PredictHandler.Side(rule, backbone, tasks, client, Optional.of(
                    new EmbeddingBatcher(text, config.batchMaxTexts(), config.batchMaxWaitMs(), registry)));
        }
        ModelClient client = builder.expectedBackbone(new BackboneRef(backbone.id(), backbone.sha256(),
                backbone.dimension())).build().start();
        return new PredictHandler.Side(rule, backbone, tasks, client, Optional.empty());
    }

    private static ModelClient.Builder clientBuilder(ServingConfig config, PrometheusMeterRegistry registry) {
        return ModelClient.builder(config.clientProperties(), Topics.withPrefix(config.topicPrefix()))
                .trustedKeys(config.trustedKeys()).meterRegistry(registry)
                .stallTimeoutMs(config.raw().getLong(HeadwaterConfigs.HEALTH_STALL_TIMEOUT_MS));
    }

    /** The default backbone's side first, then the rules'. */
    private static List<PredictHandler.Side> sides(List<PredictHandler.Side> rules, PredictHandler.Side fallback) {
        List<PredictHandler.Side> sides = new ArrayList<>();
        sides.add(fallback);
        sides.addAll(rules);
        return sides;
    }

    /**
     * Live while every backbone's client follows model updates (dead, naming the backbone, as soon
     * as one stops); ready once they serve at least one task between them.
     */
    static StageHealth health(List<PredictHandler.Side> sides) {
        return new StageHealth() {
            @Override
            public String stage() {
                return "serving";
            }

            @Override
            public Status status() {
                int tasks = 0;
                for (PredictHandler.Side side : sides) {
                    Status following = side.client().health().status();
                    if (!following.live()) {
                        return Status.dead("not following model updates for backbone " + side.backbone().id() + ": "
                                + following.detail());
                    }
                    tasks += side.client().tasks().size();
                }
                boolean serves = tasks > 0;
                return Status.live(serves, serves ? "serving " + tasks + " tasks" : "no version yet");
            }
        };
    }

    /** Completes with the cause if a model follower dies (the versions it serves would be frozen). */
    public CompletableFuture<Throwable> failure() {
        CompletableFuture<?>[] failures = sides(rules, fallback).stream().map(s -> s.client().health().failure())
                .toArray(CompletableFuture[]::new);
        return CompletableFuture.anyOf(failures).thenApply(t -> (Throwable) t);
    }

    public int port() {
        return server.port();
    }

    /** The client of the default text backbone. */
    public ModelClient client() {
        return fallback.client();
    }

    /** The client that follows {@code task}'s versions: its backbone's. */
    public ModelClient client(String task) {
        return PredictHandler.route(rules, fallback, task).client();
    }

    /** The client following image tasks' versions, when images are served. */
    public Optional<ModelClient> imageClient() {
        return rules.stream().filter(PredictHandler.Side::images).findFirst().map(PredictHandler.Side::client);
    }

    @Override
    public void close() {
        server.close();
        rules.forEach(PredictHandler.Side::close);
        fallback.close();
    }
}
