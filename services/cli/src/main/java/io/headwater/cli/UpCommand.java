package io.headwater.cli;

import io.headwater.core.HeadwaterException;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code headwater up}: Headwater on this machine for producers in other processes. A KRaft broker
 * on a fixed loopback port, the extractor, trainer, registry (API and web page) and serving in this
 * JVM, every one with its data under {@code --data-dir}, so a second {@code up} carries on with the
 * same topics, offsets, head state and versions. Nothing is streamed: producers send their own
 * examples.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Run a local Headwater for your own producers: a Kafka broker on a fixed port and every service.",
            "",
            "Starts a Kafka broker (KRaft) on 127.0.0.1:PORT and, in this JVM, the",
            "extractor, trainer, registry (API and web page) and serving, with their",
            "data in --data-dir, kept across restarts. Nothing is streamed: send",
            "examples with headwater produce, kcat or any Kafka client. Ctrl-C stops it."})
final class UpCommand implements Callable<Integer> {
    /** The file under the data directory with the stack's own settings: the admin token, the controller port. */
    static final String SETTINGS_FILE = "headwater.properties";
    static final String CONTROLLER_PORT = "local.controller.port";

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "9092",
            description = "Loopback port of the Kafka broker (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where the broker, the trainer, the registry and the embedding cache keep their data "
                    + "(default: ${DEFAULT-VALUE}).",
            defaultValue = "${sys:user.home}/.headwater/local")
    Path dataDir;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9400",
            description = "Port of /metrics and /health; 0 picks a free one, -1 turns it off (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--serving-port", paramLabel = "PORT", defaultValue = "8080",
            description = "Port of POST /predict; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int servingPort;

    @Option(names = "--registry-port", paramLabel = "PORT", defaultValue = "9470",
            description = "Port of the registry's API and web page; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int registryPort;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Properties file of Headwater keys for the services (see docs/configuration.md).")
    Path configFile;

    @Option(names = {"-D", "--set"}, paramLabel = "KEY=VALUE", description = "Set one config key; wins over the file.")
    Map<String, String> overrides = new LinkedHashMap<>();

    private final long t0 = System.nanoTime();

    @Override
    public Integer call() throws Exception {
        if (port < 1 || port > 65535) {
            throw new HeadwaterException("--port must be between 1 and 65535, found " + port);
        }
        DemoCommand.quietKafkaLogs();
        Files.createDirectories(dataDir);
        Properties settings = settings(dataDir);
        Map<String, String> props = new HashMap<>(HeadwaterConfigs.load(Optional.ofNullable(configFile), overrides));
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, "127.0.0.1:" + port);
        props.putIfAbsent(TrainerConfig.STATE_DIR, dataDir.resolve("trainer").toString());
        props.putIfAbsent(RegistryConfig.STATE_DIR, dataDir.resolve("registry").toString());
        props.putIfAbsent(ExtractorConfig.CACHE_DIR, dataDir.resolve("embeddings").toString());
        props.putIfAbsent(HeadwaterConfigs.METRICS_PORT, Integer.toString(metricsPort));
        props.putIfAbsent(ServingConfig.PORT, Integer.toString(servingPort));
        props.putIfAbsent(RegistryConfig.API_PORT, Integer.toString(registryPort));
        props.putIfAbsent(RegistryConfig.ADMIN_TOKEN, settings.getProperty(RegistryConfig.ADMIN_TOKEN));
        // For this machine only, like the demo: every HTTP server on loopback unless told otherwise.
        props.putIfAbsent(HeadwaterConfigs.METRICS_BIND_ADDRESS, HttpEndpoint.LOOPBACK);
        props.putIfAbsent(RegistryConfig.API_BIND_ADDRESS, HttpEndpoint.LOOPBACK);
        props.putIfAbsent(ServingConfig.BIND_ADDRESS, HttpEndpoint.LOOPBACK);
        // Someone is watching: propose a version a few seconds after examples arrive, not 30.
        props.putIfAbsent(TrainerConfig.CANDIDATE_EVERY_MS, "5000");
        Pipeline.validate(props);
        new ServingConfig(props);
        requireFree(port, "--port");
        int controllerPort = Integer.parseInt(settings.getProperty(CONTROLLER_PORT));
        requireFree(controllerPort, CONTROLLER_PORT + " in " + dataDir.resolve(SETTINGS_FILE));

        say("Starting Kafka (KRaft) on 127.0.0.1:" + port + ", data in " + dataDir.toAbsolutePath().normalize() + " ...");
        Stack stack = new Stack();
        try {
            stack.broker = EmbeddedKafkaBroker.builder().port(port).controllerPort(controllerPort)
                    .logDir(dataDir.resolve("kafka")).deleteOnClose(false).start();
            PrometheusMeterRegistry meters = Meters.registry("local");
            stack.metrics = Meters.serve(props, metricsPort, meters);
            stack.pipeline = Pipeline.start(props, meters);
            stack.serving = Serving.start(new ServingConfig(props), stack.pipeline.backbone(),
                    Pipeline.servingRules(new ExtractorConfig(props), stack.pipeline.backbones()), meters);
            stack.metrics.ifPresent(s -> stack.pipeline.healths().forEach(s::addHealth));
            Topics topics = Topics.withPrefix(new ExtractorConfig(props).topicPrefix());
            stack.watcher = new ModelUpdateWatcher(HeadwaterConfigs.clientProperties(
                    HeadwaterConfigs.parse(HeadwaterConfigs.common(), props)), topics, this::printUpdate);
            printEndpoints(stack, topics, props);
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
        CompletableFuture<Throwable> failure = stack.pipeline.failure();
        stack.serving.failure().thenAccept(failure::complete);
        return ServiceCommands.runUntilStopped("the local stack", stack, Optional.empty(), failure);
    }

    private void printEndpoints(Stack stack, Topics topics, Map<String, String> props) {
        int api = stack.pipeline.registry().apiPort().orElseThrow();
        List<String> lines = new ArrayList<>();
        lines.add(String.format("Kafka broker       %s   (bootstrap.servers; topics %s, %s, ...)",
                stack.broker.bootstrapServers().replace("127.0.0.1", "localhost"), topics.examples().name(),
                topics.modelUpdates().name()));
        lines.add("Registry web page  http://localhost:" + api + "/ui/");
        lines.add("Registry API       http://localhost:" + api + "/tasks   (admin token: "
                + RegistryConfig.ADMIN_TOKEN + " in " + dataDir.resolve(SETTINGS_FILE).toAbsolutePath().normalize() + ")");
        lines.add("Predictions        http://localhost:" + stack.serving.port() + "/predict");
        stack.metrics.ifPresent(m -> lines.add("Metrics, health    http://localhost:" + m.port() + "/metrics, /health"));
        lines.add("Head types         " + props.getOrDefault(TrainerConfig.HEAD_TYPE, "lda") + " ("
                + TrainerConfig.HEAD_TYPE + ")");
        say("Up. Send examples, e.g. ./headwater produce data/fortunes.jsonl.gz --task fortunes; Ctrl-C stops.");
        lines.forEach(l -> System.out.println("          " + l));
        System.out.flush();
    }

    private void printUpdate(ModelUpdate u) {
        System.out.println(DemoCommand.versionLine(elapsed(), u));
        System.out.flush();
    }

    /**
     * The stack's own settings, made on the first start and kept: a random admin token (so the CLI
     * and the web page can roll back) and the KRaft controller's port (a node keeps its quorum address).
     */
    static Properties settings(Path dataDir) {
        Path file = dataDir.resolve(SETTINGS_FILE);
        Properties p = new Properties();
        try {
            if (Files.exists(file)) {
                try (InputStream in = Files.newInputStream(file)) {
                    p.load(in);
                }
            }
            boolean changed = false;
            if (p.getProperty(RegistryConfig.ADMIN_TOKEN, "").isBlank()) {
                byte[] token = new byte[24];
                new SecureRandom().nextBytes(token);
                p.setProperty(RegistryConfig.ADMIN_TOKEN, Base64.getUrlEncoder().withoutPadding().encodeToString(token));
                changed = true;
            }
            String controller = p.getProperty(CONTROLLER_PORT, "");
            if (!controller.matches("[0-9]{1,5}") || Integer.parseInt(controller) < 1 || Integer.parseInt(controller) > 65535) {
                if (!controller.isEmpty()) {
                    throw new HeadwaterException(CONTROLLER_PORT + " in " + file + " must be a port number, found '"
                            + controller + "'");
                }
                p.setProperty(CONTROLLER_PORT, Integer.toString(EmbeddedKafkaBroker.freePort()));
                changed = true;
            }
            if (changed) {
                if (!Files.exists(file)) {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                }
                try (OutputStream out = Files.newOutputStream(file)) {
                    p.store(out, "headwater up: this local stack's own settings (the CLI reads the admin token here)");
                }
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read or write " + file, e);
        }
    }

    /** Fails with a message naming the port and what uses it, before anything starts. */
    private static void requireFree(int port, String what) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new HeadwaterException("port " + port + " (" + what + ") is in use: another broker or headwater up? "
                    + "Stop it, or choose another port");
        }
    }

    private double elapsed() {
        return (System.nanoTime() - t0) / 1e9;
    }

    private void say(String s) {
        System.out.printf("[%6.1fs] %s%n", elapsed(), s);
        System.out.flush();
    }

    /** Everything {@code up} started, closed in reverse order. */
    private final class Stack implements AutoCloseable {
        EmbeddedKafkaBroker broker;
        Optional<MetricsServer> metrics = Optional.empty();
        Pipeline pipeline;
        Serving serving;
        ModelUpdateWatcher watcher;

        @Override
        public void close() {
            say("Stopping...");
            if (watcher != null) {
                watcher.close();
            }
            if (serving != null) {
                serving.close();
            }
            if (pipeline != null) {
                pipeline.close();
            }
            metrics.ifPresent(MetricsServer::close);
            if (broker != null) {
                broker.close();
            }
            say("Stopped; topics, state and versions are kept in " + dataDir.toAbsolutePath().normalize());
        }
    }
}
