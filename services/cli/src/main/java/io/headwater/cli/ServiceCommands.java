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
import java.util.function.BiFunction;
import java.util.function.Function;
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
     * Parses the service's config (a bad key stops here, before anything starts), then starts the
     * service with its metrics server and health check, and runs until Ctrl-C.
     */
    static <C> Integer runStreamsService(String name, Map<String, String> props, Function<Map<String, String>, C> parse,
                                         BiFunction<C, PrometheusMeterRegistry, StreamsService> start) throws Exception {
        C config = parse.apply(props);
        PrometheusMeterRegistry meters = Meters.registry(name);
        Optional<MetricsServer> server = Meters.serve(props, DEFAULT_METRICS_PORT, meters);
        StreamsService s = start.apply(config, meters);
        server.ifPresent(m -> m.addHealthCheck(name, s::healthy));
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
            return runStreamsService("trainer", connection.props(), TrainerConfig::new,
                    io.headwater.trainer.Trainer::start);
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
            PrometheusMeterRegistry meters = Meters.registry("registry");
            Optional<MetricsServer> server = Meters.serve(props, DEFAULT_METRICS_PORT, meters);
            io.headwater.registry.Registry registry = io.headwater.registry.Registry.start(config, meters);
            server.ifPresent(m -> m.addHealthCheck("registry", registry::healthy));
            registry.apiPort().ifPresent(p -> System.err.println("headwater: registry API on http://localhost:" + p
                    + "/tasks"));
            return runUntilStopped(registry, server);
        }
    }

}
