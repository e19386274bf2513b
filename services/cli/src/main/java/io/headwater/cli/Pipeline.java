package io.headwater.cli;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.ImageBackbone;
import io.headwater.extractor.Backbones;
import io.headwater.serving.TaskBackbone;
import io.headwater.extractor.Extractor;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.KafkaAccess;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topics;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.Trainer;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.headwater.kafka.StageHealth;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every Headwater service in one JVM against one cluster: extractor, trainer and registry, each
 * exactly as it runs alone. All three configs are validated before anything starts.
 *
 * <pre>{@code
 * try (Pipeline p = Pipeline.start(Map.of("bootstrap.servers", broker.bootstrapServers()), registry)) {
 *     // produce examples, read model-updates
 * }
 * }</pre>
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private final Backbones backbones;
    private final Extractor extractor;
    private final Thread extractorThread;
    private final StreamsService trainer;
    private final Registry registry;

    private Pipeline(Backbones backbones, Extractor extractor, Thread extractorThread, StreamsService trainer,
                     Registry registry) {
        this.backbones = backbones;
        this.extractor = extractor;
        this.extractorThread = extractorThread;
        this.trainer = trainer;
        this.registry = registry;
    }

    /** Parses every service's config; a bad key or value throws a {@code ConfigException} naming it. */
    public static void validate(Map<String, String> props) {
        ExtractorConfig extractor = new ExtractorConfig(props);
        extractor.backboneSpec();
        extractor.imageTasks();
        extractor.imageBackboneSpec();
        extractor.namedBackbones();
        new TrainerConfig(props).headOptions();
        new RegistryConfig(props);
    }

    public static Pipeline start(Map<String, String> props, MeterRegistry meters) {
        ExtractorConfig extractorConfig = new ExtractorConfig(props);
        TrainerConfig trainerConfig = new TrainerConfig(props);
        RegistryConfig registryConfig = new RegistryConfig(props);
        Topics topics = Topics.withPrefix(extractorConfig.topicPrefix());
        KafkaAccess.check(extractorConfig.clientProperties());
        try (Admin admin = Admin.create(extractorConfig.clientProperties())) {
            Topics.ensure(admin, topics.all(), extractorConfig.topicSettings());
        }
        Backbones backbones = Backbones.load(extractorConfig);
        Extractor extractor = new Extractor(extractorConfig, backbones, meters);
        Thread thread = new Thread(extractor, "headwater-extractor");
        thread.start();
        StreamsService trainer = Trainer.start(trainerConfig, meters);
        Registry registry = Registry.start(registryConfig, meters);
        return new Pipeline(backbones, extractor, thread, trainer, registry);
    }

    /**
     * What serving routes beside the default text backbone, as the extractor does: each named
     * backbone of {@code backbones} for its {@code backbone.<name>.tasks}, in that order, then the
     * image backbone for {@code backbone.image.tasks}.
     */
    public static List<TaskBackbone> servingRules(ExtractorConfig config, Backbones backbones) {
        return backbones.routes(config).stream().map(r -> new TaskBackbone(r.rule(), r.backbone(), r.tasks())).toList();
    }

    /** The default text backbone. */
    public Backbone backbone() {
        return backbones.text();
    }

    /** The image backbone, when image tasks are configured. */
    public Optional<ImageBackbone> imageBackbone() {
        return backbones.image();
    }

    /** Every backbone the extractor runs, named ones included. */
    public Backbones backbones() {
        return backbones;
    }

    public Registry registry() {
        return registry;
    }

    /** True while every service is live (running and not stuck). */
    public boolean healthy() {
        return healths().stream().allMatch(h -> h.status().live());
    }

    /** The health of each service: extractor, trainer, registry. */
    public List<StageHealth> healths() {
        return List.of(extractor.health(), trainer.health(), registry.health());
    }

    /** Completes with the cause when any of the services dies. */
    public CompletableFuture<Throwable> failure() {
        CompletableFuture<Throwable> any = new CompletableFuture<>();
        extractor.health().failure().thenAccept(any::complete);
        trainer.failure().thenAccept(any::complete);
        registry.streams().failure().thenAccept(any::complete);
        return any;
    }

    @Override
    public void close() {
        LOG.info("Stopping the pipeline");
        extractor.close();
        trainer.close();
        registry.close();
        backbones.close();
    }
}
