package io.headwater.cli;

import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.KafkaErrors;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.StageHealth;
import io.headwater.kafka.StreamsService;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** One subcommand per service, each running it alone against {@code bootstrap.servers} until Ctrl-C. */
final class ServiceCommands {
    static final int DEFAULT_METRICS_PORT = 9400;

    private ServiceCommands() {
    }

    /**
     * Runs until Ctrl-C (status 0) or until the service fails (status 1): a dead loop or stream
     * client ends the process, so that its supervisor (systemd, Kubernetes, compose) restarts it,
     * instead of leaving a process that serves /metrics but does no work.
     */
    static Integer runUntilStopped(String name, AutoCloseable service, Optional<MetricsServer> server,
                                   CompletableFuture<Throwable> failure) throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        Runnable close = () -> {
            if (closed.compareAndSet(false, true)) {
                try {
                    service.close();
                } catch (Exception e) {
                    System.err.println("headwater: error while stopping " + name + ": " + e);
                }
                server.ifPresent(MetricsServer::close);
            }
        };
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread hook = new Thread(() -> {
            exit.complete(0);
            close.run();
        }, "headwater-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        failure.thenAccept(cause -> exit.complete(1));
        int status = exit.get();
        if (status != 0) {
            System.err.println("headwater: " + name + " stopped: " + KafkaErrors.describe(failure.getNow(null))
                    + "; exiting with status " + status + " (a supervisor should restart it)");
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C came at the same time; the hook closes.
            }
            close.run();
        }
        return status;
    }

    /**
     * Starts a service (whose config the caller parsed first, so a bad key stops before anything
     * starts) with its metrics server and health, and runs it until Ctrl-C or its failure.
     */
    static <S extends AutoCloseable> Integer runService(String name, Map<String, String> props,
                                                        Function<PrometheusMeterRegistry, S> start,
                                                        Function<S, StageHealth> health,
                                                        Function<S, CompletableFuture<Throwable>> failure)
            throws Exception {
        PrometheusMeterRegistry meters = Meters.registry(name);
        Optional<MetricsServer> server = Meters.serve(props, DEFAULT_METRICS_PORT, meters);
        S s = start.apply(meters);
        server.ifPresent(m -> m.addHealth(health.apply(s)));
        return runUntilStopped(name, s, server, failure.apply(s));
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
            io.headwater.extractor.Backbones backbones = io.headwater.extractor.Backbones.load(config);
            io.headwater.extractor.Extractor extractor = new io.headwater.extractor.Extractor(config, backbones, meters);
            server.ifPresent(s -> s.addHealth(extractor.health()));
            Thread t = new Thread(extractor, "headwater-extractor");
            t.start();
            return runUntilStopped("extractor", () -> {
                extractor.close();
                backbones.close();
            }, server, extractor.health().failure());
        }
    }

    @Command(name = "serving", mixinStandardHelpOptions = true,
            description = {"Serve POST /predict (plus /health and /metrics) from the newest verified model versions.",
                "Embeds with the extractor's backbone keys (backbone.*, backbone.image.*, backbones), routing each task "
                        + "to its backbone as the extractor does."})
    static final class Serving implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Override
        public Integer call() throws Exception {
            Map<String, String> props = connection.props();
            io.headwater.serving.ServingConfig config = new io.headwater.serving.ServingConfig(props);
            ExtractorConfig extractorConfig = new ExtractorConfig(props);
            io.headwater.extractor.Backbones backbones = io.headwater.extractor.Backbones.load(extractorConfig);
            PrometheusMeterRegistry meters = Meters.registry("serving");
            // A start-up failure ends the command (and the JVM) with its message, as the other services do.
            io.headwater.serving.Serving serving = io.headwater.serving.Serving.start(config, backbones.text(),
                    Pipeline.servingRules(extractorConfig, backbones), meters);
            System.err.println("headwater: serving on http://localhost:" + serving.port() + "/predict");
            return runUntilStopped("serving", () -> {
                serving.close();
                backbones.close();
            }, Optional.empty(), serving.failure());
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
            return runService("trainer", props, m -> io.headwater.trainer.Trainer.start(config, m),
                    StreamsService::health, StreamsService::failure);
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
            }, io.headwater.registry.Registry::health, r -> r.streams().failure());
        }
    }

}
