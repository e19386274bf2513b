package io.headwater.cli;

import io.headwater.backbone.Backbone;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.StreamsService;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** One subcommand per service, each running it alone against {@code bootstrap.servers} until Ctrl-C. */
final class ServiceCommands {
    static final int DEFAULT_METRICS_PORT = 9400;

    private ServiceCommands() {
    }

    static Integer runUntilStopped(AutoCloseable service, Optional<MetricsServer> server) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                service.close();
                server.ifPresent(MetricsServer::close);
            } catch (Exception e) {
                System.err.println("headwater: error while stopping: " + e);
            } finally {
                done.countDown();
            }
        }));
        done.await();
        return 0;
    }

    /**
     * Starts a service (whose config the caller parsed first, so a bad key stops before anything
     * starts) with its metrics server and health check, and runs it until Ctrl-C.
     */
    static <S extends AutoCloseable> Integer runService(String name, Map<String, String> props,
                                                        Function<PrometheusMeterRegistry, S> start,
                                                        Predicate<S> healthy) throws Exception {
        PrometheusMeterRegistry meters = Meters.registry(name);
        Optional<MetricsServer> server = Meters.serve(props, DEFAULT_METRICS_PORT, meters);
        S s = start.apply(meters);
        server.ifPresent(m -> m.addHealthCheck(name, () -> healthy.test(s)));
        return runUntilStopped(s, server);
    }

    @Command(name = "extractor", mixinStandardHelpOptions = true,
            description = "Run the extractor: examples -> features (and examples.dlq), transactional.")
    static final class Extractor implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Override
        public Integer call() throws Exception {
            Map<String, String> props = connection.props();
            ExtractorConfig config = new ExtractorConfig(props);
            PrometheusMeterRegistry meters = Meters.registry("extractor");
            Optional<MetricsServer> server = Meters.serve(props, DEFAULT_METRICS_PORT, meters);
            io.headwater.extractor.Extractor.ensureTopics(config);
            Backbone backbone = Backbone.load(config.backboneSpec());
            io.headwater.extractor.Extractor extractor = new io.headwater.extractor.Extractor(config, backbone, meters);
            server.ifPresent(s -> s.addHealthCheck("extractor", extractor::healthy));
            Thread t = new Thread(extractor, "headwater-extractor");
            t.start();
            return runUntilStopped(() -> {
                extractor.close();
                backbone.close();
            }, server);
        }
    }

    @Command(name = "serving", mixinStandardHelpOptions = true,
            description = {"Serve POST /predict (plus /health and /metrics) from the newest verified model versions.",
                "Embeds with the backbone.* keys, which must name the extractor's backbone."})
    static final class Serving implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Override
        public Integer call() throws Exception {
            Map<String, String> props = connection.props();
            io.headwater.serving.ServingConfig config = new io.headwater.serving.ServingConfig(props);
            Backbone backbone = Backbone.load(new ExtractorConfig(props).backboneSpec());
            PrometheusMeterRegistry meters = Meters.registry("serving");
            io.headwater.serving.Serving serving = io.headwater.serving.Serving.start(config, backbone, meters);
            System.err.println("headwater: serving on http://localhost:" + serving.port() + "/predict");
            return runUntilStopped(() -> {
                serving.close();
                backbone.close();
            }, Optional.empty());
        }
    }

    @Command(name = "trainer", mixinStandardHelpOptions = true,
            description = "Run the trainer: features -> model-candidates (Kafka Streams, exactly_once_v2).")
    static final class Trainer implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Override
        public Integer call() throws Exception {
            Map<String, String> props = connection.props();
            TrainerConfig config = new TrainerConfig(props);
            return runService("trainer", props, m -> io.headwater.trainer.Trainer.start(config, m), StreamsService::healthy);
        }
    }

    @Command(name = "registry", mixinStandardHelpOptions = true,
            description = "Run the registry: model-candidates -> model-updates + model-history (Kafka Streams).")
    static final class Registry implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Override
        public Integer call() throws Exception {
            Map<String, String> props = connection.props();
            RegistryConfig config = new RegistryConfig(props);
            return runService("registry", props, m -> {
                io.headwater.registry.Registry registry = io.headwater.registry.Registry.start(config, m);
                registry.apiPort().ifPresent(p -> System.err.println("headwater: registry API on http://localhost:" + p
                        + "/tasks"));
                return registry;
            }, io.headwater.registry.Registry::healthy);
        }
    }

}
