package io.headwater.cli;

import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.Json;
import io.headwater.kafka.KafkaErrors;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.MetricsServer;
import io.headwater.kafka.ModelDecision;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code headwater demo}: a real KRaft broker in this JVM, every service against it, and the
 * bundled real data sets streamed through in a shuffled order. Prints a line per published version.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Stream the bundled data sets through an in-process broker and every service; print each version.",
            "Starts an in-process Kafka broker (KRaft) and every Headwater service in this JVM, streams the bundled",
            "labeled data sets through them and prints each model version as it is published. Stops when every",
            "example is learned, at --max-seconds, or on Ctrl-C."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--tasks", split = ",", paramLabel = "TASK",
            description = "Bundled tasks to stream: spam, fine-foods, fortunes; image tasks mnist-digits, "
                    + "fashion-heldout (embedded by the image backbone, beside the text ones; default: ${DEFAULT-VALUE}).",
            defaultValue = "spam,fine-foods")
    List<String> tasks;

    @Option(names = "--max-examples", paramLabel = "N", description = "Stream at most N examples per task (default: all).")
    Integer maxExamples;

    @Option(names = "--max-seconds", paramLabel = "S", defaultValue = "600",
            description = "Stop after this many seconds (default: ${DEFAULT-VALUE}).")
    int maxSeconds;

    @Option(names = "--seed", defaultValue = "42", description = "Shuffle seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--rate", paramLabel = "PER_SECOND", defaultValue = "0",
            description = "Examples per second to produce, 0 for as fast as Kafka takes them (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--bad-examples", paramLabel = "N", defaultValue = "3",
            description = "Malformed examples to mix into each task's stream, to show the dead-letter topic (default: ${DEFAULT-VALUE}).")
    int badExamples;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9400",
            description = "Port of /metrics and /health; 0 picks a free one, -1 turns it off (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--serving-port", paramLabel = "PORT", defaultValue = "8080",
            description = "Port of POST /predict, served from the published versions; 0 picks a free one, -1 turns it off (default: ${DEFAULT-VALUE}).")
    int servingPort;

    @Option(names = "--broker-port", paramLabel = "PORT", defaultValue = "0",
            description = "Loopback port of the in-process broker; 0 picks a free one (default: ${DEFAULT-VALUE}). "
                    + "Not used with -b.")
    int brokerPort;

    @Option(names = "--linger-seconds", paramLabel = "S", defaultValue = "0",
            description = "Keep the services and /metrics up this many seconds after the summary, for a last scrape (default: ${DEFAULT-VALUE}).")
    int lingerSeconds;

    @Option(names = "--report-dir", paramLabel = "DIR", defaultValue = "target/headwater-demo-report",
            description = "Where to write the HTML report (accuracy over time, versions, throughput) at the end "
                    + "(default: ${DEFAULT-VALUE}).")
    Path reportDir;

    @Mixin
    ConnectionOptions connection;

    private final DemoReport report = new DemoReport();

    private final AtomicBoolean stop = new AtomicBoolean();
    private List<io.headwater.core.HeadType> headTypes;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final List<Path> tempDirs = new ArrayList<>();
    private long t0;

    @Override
    public Integer call() throws Exception {
        t0 = System.nanoTime();
        quietKafkaLogs();
        Map<String, List<Datasets.Line>> data = new LinkedHashMap<>();
        for (String task : tasks) {
            List<Datasets.Line> lines = Datasets.shuffled(Datasets.bundled(task), seed);
            data.put(task, maxExamples == null ? lines : lines.subList(0, Math.min(maxExamples, lines.size())));
        }
        Map<String, String> props = new HashMap<>(connection.props());
        // State of its own for each run, deleted at the end (a local stack that keeps it: headwater up).
        for (String key : List.of(TrainerConfig.STATE_DIR, RegistryConfig.STATE_DIR)) {
            if (!props.containsKey(key)) {
                Path dir = Files.createTempDirectory(key.startsWith("trainer") ? "headwater-trainer-" : "headwater-registry-");
                tempDirs.add(dir);
                props.put(key, dir.toString());
            }
        }
        props.putIfAbsent(HeadwaterConfigs.METRICS_PORT, Integer.toString(metricsPort));
        props.putIfAbsent(ServingConfig.PORT, Integer.toString(Math.max(0, servingPort)));
        // A demo is for this machine: its HTTP servers listen on loopback unless told otherwise.
        props.putIfAbsent(HeadwaterConfigs.METRICS_BIND_ADDRESS, HttpEndpoint.LOOPBACK);
        props.putIfAbsent(RegistryConfig.API_BIND_ADDRESS, HttpEndpoint.LOOPBACK);
        props.putIfAbsent(ServingConfig.BIND_ADDRESS, HttpEndpoint.LOOPBACK);
        // A demo's stream ends: publish what is left after a few seconds, not the service default of 30.
        props.putIfAbsent(TrainerConfig.CANDIDATE_EVERY_MS, "5000");
        // Both head types train side by side as challengers; the registry's gate picks each version.
        props.putIfAbsent(TrainerConfig.HEAD_TYPE, "lda,sgd");
        // Image data sets are embedded by the image backbone, beside the text tasks on the same topic.
        List<String> imageTasks = tasks.stream().filter(Datasets.BUNDLED_IMAGES::containsKey).toList();
        if (!imageTasks.isEmpty()) {
            props.putIfAbsent(io.headwater.extractor.ExtractorConfig.IMAGE_TASKS, imageTasks.stream()
                    .map(java.util.regex.Pattern::quote).collect(java.util.stream.Collectors.joining("|")));
        }
        // Validate every config before the broker starts, so a typo fails in a second.
        Pipeline.validate(props);
        headTypes = new TrainerConfig(props).headTypes();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.set(true);
            try {
                finished.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "headwater-demo-shutdown"));
        try {
            return run(data, props);
        } finally {
            tempDirs.forEach(DemoCommand::delete);
            finished.countDown();
        }
    }

    private int run(Map<String, List<Datasets.Line>> data, Map<String, String> props) {
        Optional<EmbeddedKafkaBroker> broker = Optional.empty();
        if (!props.containsKey(HeadwaterConfigs.BOOTSTRAP_SERVERS)) {
            say("Starting an in-process Kafka broker (KRaft)...");
            broker = Optional.of(EmbeddedKafkaBroker.builder().port(brokerPort).start());
            props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.get().bootstrapServers());
            say("Kafka broker on " + broker.get().bootstrapServers().replace("127.0.0.1", "localhost")
                    + " (bootstrap.servers; kcat -b " + broker.get().bootstrapServers() + ")");
        }
        var common = HeadwaterConfigs.parse(HeadwaterConfigs.common(), props);
        Topics topics = Topics.withPrefix(common.getString(HeadwaterConfigs.TOPIC_PREFIX));
        Map<String, Object> clientProps = HeadwaterConfigs.clientProperties(common);
        PrometheusMeterRegistry meters = Meters.registry("demo");
        Optional<MetricsServer> server = Meters.serve(props, metricsPort, meters);
        server.ifPresent(s -> say("Metrics on http://localhost:" + s.port() + "/metrics"));
        Map<String, Long> sent = new HashMap<>();
        Map<String, Map<String, Long>> labelCounts = new HashMap<>();
        try (Pipeline pipeline = Pipeline.start(props, meters);
             ModelUpdateWatcher watcher = new ModelUpdateWatcher(clientProps, topics, this::printUpdate);
             ExampleProducer producer = new ExampleProducer(clientProps, topics)) {
            server.ifPresent(s -> pipeline.healths().forEach(s::addHealth));
            CompletableFuture<Throwable> failed = pipeline.failure();
            pipeline.registry().apiPort().ifPresent(p -> say("Registry API on http://localhost:" + p + "/tasks"));
            Optional<Serving> serving = servingPort < 0 ? Optional.empty()
                    : Optional.of(Serving.start(new ServingConfig(props), pipeline.backbone(), Pipeline.servingRules(
                            new io.headwater.extractor.ExtractorConfig(props), pipeline.backbones()), meters));
            serving.ifPresent(s -> say("Predictions on http://localhost:" + s.port() + "/predict"));
            serving.ifPresent(s -> s.failure().thenAccept(failed::complete));
            say("Backbone " + pipeline.backbone().id() + " (sha256 " + pipeline.backbone().sha256().substring(0, 12)
                    + "..., " + pipeline.backbone().dimension() + " dims). Streaming " + describe(data) + ".");
            pipeline.imageBackbone().ifPresent(b -> say("Image backbone " + b.id() + " (sha256 "
                    + b.sha256().substring(0, 12) + "..., " + b.dimension() + " dims) for "
                    + tasks.stream().filter(Datasets.BUNDLED_IMAGES::containsKey).toList() + "."));
            Counter produced = Counter.builder("headwater.demo.produced").description("Examples the demo produced")
                    .register(meters);
            produce(data, producer, sent, labelCounts, produced, failed);
            producer.flush();
            say("All " + sent.values().stream().mapToLong(Long::longValue).sum() + " valid examples and "
                    + badExamples * data.size() + " malformed ones produced; waiting for the last versions...");
            long deadline = t0 + TimeUnit.SECONDS.toNanos(maxSeconds);
            long nextProgress = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (!stop.get() && System.nanoTime() < deadline && !allLearned(watcher, sent)) {
                sleep(250);
                if (System.nanoTime() > nextProgress) {
                    progress(meters);
                    nextProgress = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                }
                if (failed.isDone()) {
                    break;
                }
            }
            if (failed.isDone()) {
                say("A service stopped: " + KafkaErrors.describe(failed.getNow(null)) + "; see the log above.");
                serving.ifPresent(Serving::close);
                return 1;
            }
            summary(watcher, sent, labelCounts, meters);
            serving.ifPresent(s -> predictSome(s, data));
            say("Report: " + report.write(reportDir, sent, elapsed()).toAbsolutePath().normalize());
            // Ctrl-C, or an interrupt of this thread (a test that runs the demo), ends the wait.
            long lingerUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(lingerSeconds);
            while (!stop.get() && System.nanoTime() < lingerUntil && !Thread.interrupted()) {
                sleep(250);
            }
            serving.ifPresent(Serving::close);
            return allLearned(watcher, sent) ? 0 : 1;
        } finally {
            server.ifPresent(MetricsServer::close);
            broker.ifPresent(EmbeddedKafkaBroker::close);
        }
    }

    private void produce(Map<String, List<Datasets.Line>> data, ExampleProducer producer, Map<String, Long> sent,
                         Map<String, Map<String, Long>> labelCounts, Counter produced,
                         CompletableFuture<Throwable> failed) {
        List<String[]> items = new ArrayList<>();
        data.forEach((task, lines) -> {
            for (int i = 0; i < lines.size(); i++) {
                items.add(new String[] {task, Integer.toString(i)});
            }
            for (int b = 0; b < badExamples; b++) {
                items.add(new String[] {task, "bad" + b});
            }
        });
        List<String[]> order = Datasets.shuffled(items, seed + 1);
        long start = System.nanoTime();
        long n = 0;
        for (String[] item : order) {
            if (stop.get() || failed.isDone()) {
                return;
            }
            String task = item[0];
            if (item[1].startsWith("bad")) {
                producer.sendRaw(task, badExample(task, Integer.parseInt(item[1].substring(3))));
                continue;
            }
            Datasets.Line line = data.get(task).get(Integer.parseInt(item[1]));
            if (producer.send(task, line)) {
                sent.merge(task, 1L, Long::sum);
                labelCounts.computeIfAbsent(task, t -> new HashMap<>())
                        .merge(line.json().get().path("label").asText(), 1L, Long::sum);
            }
            produced.increment();
            n++;
            if (rate > 0) {
                long due = start + (long) (n / rate * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    sleep(wait / 1_000_000);
                }
            }
        }
    }

    /** Malformed examples of the kinds producers get wrong: broken JSON, a missing label, a wrong key. */
    private static byte[] badExample(String task, int i) {
        String s = switch (i % 3) {
            case 0 -> "{\"id\": \"bad-" + i + "\", \"task\": \"" + task + "\", \"text\": \"unterminated";
            case 1 -> "{\"id\": \"bad-" + i + "\", \"task\": \"" + task + "\", \"text\": \"no label here\"}";
            default -> "{\"id\": \"bad-" + i + "\", \"task\": \"other-task\", \"text\": \"x\", \"label\": \"y\"}";
        };
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** True when, for every task and head type, the registry has decided on a candidate that learned every example. */
    private boolean allLearned(ModelUpdateWatcher watcher, Map<String, Long> sent) {
        return sent.entrySet().stream().allMatch(e -> headTypes.stream()
                .allMatch(t -> watcher.decidedOn(e.getKey(), t.id(), e.getValue())));
    }

    private void printUpdate(ModelUpdate u) {
        report.add(u, elapsed());
        System.out.println(versionLine(elapsed(), u));
    }

    /** The line printed for a published version (the demo's and the local stack's). */
    static String versionLine(double elapsed, ModelUpdate u) {
        return String.format("[%6.1fs] %-11s v%-3d examples %6d   windowed accuracy %.3f (last %d)   %s sha256 %s%s",
                elapsed, u.task(), u.version(), u.metrics().examplesLearned(), u.metrics().windowedAccuracy(),
                u.metrics().windowCount(), u.headType(), u.artifact().sha256().substring(0, 12),
                u.sourceVersion() > 0 ? "   (" + u.origin() + " of v" + u.sourceVersion() + ")" : "");
    }

    private void progress(PrometheusMeterRegistry meters) {
        say(String.format("examples produced %.0f, embedded %.0f, learned %s, dead-lettered %.0f",
                count(meters, "headwater.demo.produced"), count(meters, "headwater.extractor.features"),
                learnedPerHead(meters), count(meters, "headwater.extractor.dlq")));
    }

    /** Examples learned by each head type ({@code lda 10416, sgd 10416}): with challengers every example is learned once per head. */
    static String learnedPerHead(MeterRegistry meters) {
        Map<String, Double> perHead = new java.util.TreeMap<>();
        meters.find("headwater.trainer.examples").counters()
                .forEach(c -> perHead.merge(c.getId().getTag("head"), c.count(), Double::sum));
        List<String> parts = new ArrayList<>();
        perHead.forEach((head, n) -> parts.add(String.format("%s %.0f", head, n)));
        return parts.isEmpty() ? "0" : String.join(", ", parts) + " (each head learns every example)";
    }

    private static double count(PrometheusMeterRegistry meters, String name) {
        return meters.find(name).counters().stream().mapToDouble(Counter::count).sum();
    }

    private void summary(ModelUpdateWatcher watcher, Map<String, Long> sent, Map<String, Map<String, Long>> labels,
                         PrometheusMeterRegistry meters) {
        System.out.println();
        System.out.printf("%-11s %8s %8s %9s %9s %6s %10s %9s%n", "task", "versions", "rejected", "produced",
                "learned", "head", "windowed", "majority");
        for (var e : sent.entrySet()) {
            Optional<ModelUpdate> last = watcher.latest(e.getKey());
            long rejected = watcher.decisions(e.getKey()).stream()
                    .filter(d -> ModelDecision.REJECTED.equals(d.decision())).count();
            long max = labels.get(e.getKey()).values().stream().mapToLong(Long::longValue).max().orElse(0);
            System.out.printf("%-11s %8d %8d %9d %9d %6s %10.3f %9.3f%n", e.getKey(),
                    last.map(ModelUpdate::version).orElse(0L), rejected, e.getValue(),
                    last.map(u -> u.metrics().examplesLearned()).orElse(0L), last.map(ModelUpdate::headType).orElse("-"),
                    last.map(u -> u.metrics().windowedAccuracy()).orElse(0.0), (double) max / e.getValue());
        }
        System.out.printf("dead-lettered: %.0f; elapsed %.1f s%n", count(meters, "headwater.extractor.dlq"), elapsed());
    }

    /** Asks the serving endpoint about a few examples of each task, as a client would. */
    private void predictSome(Serving serving, Map<String, List<Datasets.Line>> data) {
        HttpClient http = HttpClient.newHttpClient();
        System.out.println();
        for (var e : data.entrySet()) {
            List<Datasets.Line> lines = e.getValue().subList(0, Math.min(3, e.getValue().size()));
            for (Datasets.Line line : lines) {
                String text = line.json().get().path("text").asText();
                String body = Json.MAPPER.createObjectNode().put("task", e.getKey()).put("text", text).toString();
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                            URI.create("http://localhost:" + serving.port() + "/predict"))
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                    var answer = Json.MAPPER.readTree(r.body());
                    System.out.printf("POST /predict %-11s v%-3s %-10s (true: %-10s) \"%s\"%n", e.getKey(),
                            answer.path("version").asText("-"),
                            answer.path("predictions").path(0).path("label").asText(answer.path("error").asText()),
                            line.json().get().path("label").asText(), abbreviate(text));
                } catch (java.io.IOException ex) {
                    say("POST /predict failed: " + ex.getMessage());
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static String abbreviate(String text) {
        String oneLine = text.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
    }

    private String describe(Map<String, List<Datasets.Line>> data) {
        List<String> parts = new ArrayList<>();
        data.forEach((task, lines) -> parts.add(task + " (" + lines.size() + ")"));
        return String.join(", ", parts);
    }

    /**
     * The demo's console shows its own progress; the services' Kafka warnings (shown when they run
     * alone) are turned down to ERROR unless HEADWATER_KAFKA_LOG_LEVEL asks for them.
     */
    static void quietKafkaLogs() {
        if (System.getenv("HEADWATER_KAFKA_LOG_LEVEL") != null) {
            return;
        }
        for (String name : List.of("org.apache.kafka", "kafka")) {
            if (org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger l) {
                l.setLevel(ch.qos.logback.classic.Level.ERROR);
            }
        }
    }

    private double elapsed() {
        return (System.nanoTime() - t0) / 1e9;
    }

    private void say(String s) {
        System.out.printf("[%6.1fs] %s%n", elapsed(), s);
    }

    /** Deletes a directory the demo made; a failure is reported, not thrown (the run's result stands). */
    static void delete(Path dir) {
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException e) {
            System.err.println("headwater: could not delete " + dir + ": " + e.getMessage());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
