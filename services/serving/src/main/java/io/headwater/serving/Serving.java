package io.headwater.serving;

import io.headwater.backbone.Backbone;
import io.headwater.client.ModelClient;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.StageHealth;
import io.headwater.kafka.Topics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

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
 */
public final class Serving implements AutoCloseable {
    private final ModelClient client;
    private final EmbeddingBatcher batcher;
    private final MetricsServer server;

    private Serving(ModelClient client, EmbeddingBatcher batcher, MetricsServer server) {
        this.client = client;
        this.batcher = batcher;
        this.server = server;
    }

    public static Serving start(ServingConfig config, Backbone backbone, PrometheusMeterRegistry registry) {
        ModelClient client = ModelClient.builder(config.clientProperties(), Topics.withPrefix(config.topicPrefix()))
                .backbone(backbone).tasks(config.tasks()).trustedKeys(config.trustedKeys()).meterRegistry(registry)
                .stallTimeoutMs(config.raw().getLong(HeadwaterConfigs.HEALTH_STALL_TIMEOUT_MS))
                .build().start();
        EmbeddingBatcher batcher = new EmbeddingBatcher(backbone, config.batchMaxTexts(), config.batchMaxWaitMs(), registry);
        MetricsServer server = MetricsServer.start(config.endpoint(), registry, config.httpThreads());
        server.addHandler("/predict", new PredictHandler(client, batcher, registry, config.requestMaxBytes()));
        server.addHealth(health(client));
        StageHealth.bindGauges(health(client), registry);
        return new Serving(client, batcher, server);
    }

    /** Live while the client follows model updates; ready once it serves at least one task. */
    static StageHealth health(ModelClient client) {
        return new StageHealth() {
            @Override
            public String stage() {
                return "serving";
            }

            @Override
            public Status status() {
                Status following = client.health().status();
                if (!following.live()) {
                    return Status.dead("not following model updates: " + following.detail());
                }
                boolean serves = !client.tasks().isEmpty();
                return Status.live(serves, serves ? "serving " + client.tasks().size() + " tasks" : "no version yet");
            }
        };
    }

    /** Completes with the cause if the model follower dies (the served versions would be frozen). */
    public java.util.concurrent.CompletableFuture<Throwable> failure() {
        return client.health().failure();
    }

    public int port() {
        return server.port();
    }

    public ModelClient client() {
        return client;
    }

    @Override
    public void close() {
        server.close();
        batcher.close();
        client.close();
    }
}
