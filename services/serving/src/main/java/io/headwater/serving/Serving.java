package io.headwater.serving;

import io.headwater.backbone.Backbone;
import io.headwater.client.ModelClient;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.StageHealth;
import io.headwater.kafka.Topics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Optional;

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
 * <p>With {@link ImageTasks}, image tasks are served beside the text ones on the same port: a
 * second client follows their versions, verified against the image backbone, and their requests
 * carry base64 images.
 */
public final class Serving implements AutoCloseable {
    private final ModelClient client;
    private final Optional<ModelClient> imageClient;
    private final EmbeddingBatcher batcher;
    private final MetricsServer server;

    private Serving(ModelClient client, Optional<ModelClient> imageClient, EmbeddingBatcher batcher,
            MetricsServer server) {
        this.client = client;
        this.imageClient = imageClient;
        this.batcher = batcher;
        this.server = server;
    }

    public static Serving start(ServingConfig config, Backbone backbone, PrometheusMeterRegistry registry) {
        return start(config, backbone, Optional.empty(), registry);
    }

    /** Serves text tasks with {@code backbone} and, when present, image tasks with the image backbone. */
    public static Serving start(ServingConfig config, Backbone backbone, Optional<ImageTasks> images,
            PrometheusMeterRegistry registry) {
        ModelClient client = clientBuilder(config, registry).backbone(backbone)
                .tasks(images.map(i -> i.textTasks(config.tasks())).orElse(config.tasks()))
                .build().start();
        Optional<ModelClient> imageClient = images.map(i -> clientBuilder(config, registry)
                .expectedBackbone(new BackboneRef(i.backbone().id(), i.backbone().sha256(), i.backbone().dimension()))
                .tasks(i.imageTasks(config.tasks())).build().start());
        EmbeddingBatcher batcher = new EmbeddingBatcher(backbone, config.batchMaxTexts(), config.batchMaxWaitMs(), registry);
        MetricsServer server = MetricsServer.start(config.endpoint(), registry, config.httpThreads());
        Optional<PredictHandler.Images> imageSide = images.map(i -> new PredictHandler.Images(i, imageClient.get()));
        server.addHandler("/predict", new PredictHandler(client, batcher, imageSide, registry, config.requestMaxBytes()));
        StageHealth health = health(client, imageClient);
        server.addHealth(health);
        StageHealth.bindGauges(health, registry);
        return new Serving(client, imageClient, batcher, server);
    }

    private static ModelClient.Builder clientBuilder(ServingConfig config, PrometheusMeterRegistry registry) {
        return ModelClient.builder(config.clientProperties(), Topics.withPrefix(config.topicPrefix()))
                .trustedKeys(config.trustedKeys()).meterRegistry(registry)
                .stallTimeoutMs(config.raw().getLong(HeadwaterConfigs.HEALTH_STALL_TIMEOUT_MS));
    }

    /** Live while the client follows model updates; ready once it serves at least one task. */
    static StageHealth health(ModelClient client) {
        return health(client, Optional.empty());
    }

    /** As {@link #health(ModelClient)}, over both clients when images are served. */
    static StageHealth health(ModelClient client, Optional<ModelClient> imageClient) {
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
                if (imageClient.isPresent() && !imageClient.get().health().status().live()) {
                    return Status.dead("not following image model updates: "
                            + imageClient.get().health().status().detail());
                }
                int tasks = client.tasks().size() + imageClient.map(c -> c.tasks().size()).orElse(0);
                boolean serves = tasks > 0;
                return Status.live(serves, serves ? "serving " + tasks + " tasks" : "no version yet");
            }
        };
    }

    /** Completes with the cause if the model follower dies (the served versions would be frozen). */
    public java.util.concurrent.CompletableFuture<Throwable> failure() {
        return imageClient.map(c -> client.health().failure().applyToEither(c.health().failure(), t -> t))
                .orElse(client.health().failure());
    }

    public int port() {
        return server.port();
    }

    public ModelClient client() {
        return client;
    }

    /** The client following image tasks' versions, when images are served. */
    public Optional<ModelClient> imageClient() {
        return imageClient;
    }

    @Override
    public void close() {
        server.close();
        batcher.close();
        client.close();
        imageClient.ifPresent(ModelClient::close);
    }
}
