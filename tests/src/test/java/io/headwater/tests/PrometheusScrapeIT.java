package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headwater.backbone.Backbone;
import io.headwater.cli.Headwater;
import io.headwater.client.Updates;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
import io.headwater.kafka.Topics;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The dashboards and alert rules against a real Prometheus scraping a real demo: every PromQL
 * expression in deploy/grafana/dashboards and deploy/prometheus/rules.yml must be valid and return
 * at least one series, so a renamed or missing metric fails here rather than on an empty panel.
 *
 * <p>The demo (in-process broker, extractor, trainer, registry; 300 examples per task) runs with
 * the real deploy/prometheus/prometheus.yml, its targets pointed at it (jobs extractor, trainer,
 * registry) and at a serving instance (job serving), scraped every second, with rules.yml loaded.
 * Failure paths whose counters appear only when they happen are exercised: malformed examples
 * (the demo's), an invalid candidate (registry rejection), an update for another backbone (client
 * refusal), 400 and 404 answers from /predict. Dashboard variables are set to match everything;
 * alert expressions are checked with their thresholds taken away (see {@link PromqlParts}).
 *
 * <p>Skips when the {@code prometheus} binary is not installed (Debian package {@code prometheus}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PrometheusScrapeIT {
    static final Set<String> JOBS = Set.of("extractor", "trainer", "registry", "serving");
    static final String PROBE_TASK = "scrape-probe";

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    EmbeddedKafkaBroker broker;
    Thread demo;
    Backbone backbone;
    Serving serving;
    Process prometheus;
    Path work;
    URI prometheusUri;

    @BeforeAll
    void scrapeARunningDemo() throws Exception {
        Optional<Path> binary = DeployFiles.tool("prometheus");
        Assumptions.assumeTrue(binary.isPresent(),
                "prometheus is not installed (Debian: apt-get install prometheus); dashboards and rules not checked");
        work = Files.createTempDirectory("prometheus-it");
        broker = EmbeddedKafkaBroker.start();
        int demoPort = freePort();
        int servingPort = freePort();
        int prometheusPort = freePort();
        prometheusUri = URI.create("http://127.0.0.1:" + prometheusPort);

        // given: the demo on the broker, lingering until this test interrupts it
        demo = new Thread(() -> Headwater.commandLine().execute("demo", "--max-examples", "300",
                "--metrics-port", Integer.toString(demoPort), "--linger-seconds", "600", "--serving-port", "-1",
                "-D", "registry.api.port=0", "-D", "extractor.cache.dir=" + work.resolve("embedding-cache"),
                "-b", broker.bootstrapServers()), "prometheus-it-demo");
        demo.start();
        // and: Prometheus with the shipped scrape config and rules, pointed at it
        Path config = writeConfig(demoPort, servingPort);
        prometheus = new ProcessBuilder(binary.get().toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + work.resolve("data"), "--web.listen-address=127.0.0.1:" + prometheusPort)
                .redirectErrorStream(true).redirectOutput(work.resolve("prometheus.log").toFile()).start();
        await("Prometheus to scrape the demo", Duration.ofSeconds(90),
                () -> !query("up{job=\"extractor\"} == 1").isEmpty());
        await("both tasks to have a published version", Duration.ofSeconds(120),
                () -> value("max(headwater_registry_published_total{job=\"registry\"})") >= 2);

        // and: serving on the same broker, answering requests
        Map<String, String> props = Map.of(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers(),
                ServingConfig.PORT, Integer.toString(servingPort));
        backbone = Backbone.load(new ExtractorConfig(props).backboneSpec());
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        meters.config().commonTags("service", "serving");
        new JvmMemoryMetrics().bindTo(meters);
        new ProcessorMetrics().bindTo(meters);
        serving = Serving.start(new ServingConfig(props), backbone, meters);
        await("serving to have a version of spam", Duration.ofSeconds(60),
                () -> serving.client().current("spam").isPresent());
        URI predict = URI.create("http://127.0.0.1:" + servingPort + "/predict");
        for (String text : List.of("WIN a FREE prize now!!!", "See you at 3pm", "Cheap meds, no prescription")) {
            assertThat(post(predict, "{\"task\": \"spam\", \"text\": \"" + text + "\"}")).isEqualTo(200);
        }
        assertThat(post(predict, "{\"task\": \"spam\"}")).isEqualTo(400);
        assertThat(post(predict, "{\"task\": \"no-such-task\", \"text\": \"x\"}")).isEqualTo(404);

        // and: the failures whose counters appear only when they happen
        Topics topics = Topics.withPrefix("headwater.");
        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.modelCandidates().name(), PROBE_TASK,
                    "not a candidate".getBytes(StandardCharsets.UTF_8))).get();
            producer.send(new ProducerRecord<>(topics.modelUpdates().name(), PROBE_TASK,
                    Json.write(Updates.update(PROBE_TASK, 1, Updates.BACKBONE)))).get();
        }
        await("the registry to reject and the client to refuse", Duration.ofSeconds(60),
                () -> !query("headwater_registry_rejected_total").isEmpty()
                        && !query("headwater_client_refused_total").isEmpty());
        // rates need two samples of a counter that has just appeared
        await("a few scrapes of the newest counters", Duration.ofSeconds(30),
                () -> value("min(count_over_time(headwater_client_refused_total[1m]))") >= 4
                        && value("min(count_over_time(headwater_registry_rejected_total[1m]))") >= 4);
    }

    @Test
    void shouldScrapeEveryJobOfTheShippedConfig() throws Exception {
        assertThat(query("up == 1")).extracting(r -> r.path("metric").path("job").asText())
                .containsAll(JOBS);
    }

    @Test
    void shouldReturnDataForEveryDashboardQuery() throws Exception {
        List<DeployFiles.Query> queries = DeployFiles.dashboardQueries();
        assertThat(queries).hasSizeGreaterThan(30);
        assertThat(failures(queries)).as("dashboard queries that fail or return no series").isEmpty();
    }

    @Test
    void shouldReturnDataForEveryPartOfEveryAlertRule() throws Exception {
        List<DeployFiles.Query> queries = DeployFiles.ruleQueries();
        assertThat(queries).hasSizeGreaterThan(15);
        assertThat(failures(queries)).as("alert rule parts (thresholds removed) that fail or return no series")
                .isEmpty();
    }

    @Test
    void shouldEvaluateEveryRuleWithoutError() throws Exception {
        await("the rules to be evaluated", Duration.ofSeconds(30), () -> rules().stream()
                .noneMatch(r -> r.path("health").asText().equals("unknown")));
        assertThat(rules()).hasSizeGreaterThan(15)
                .allSatisfy(r -> assertThat(r.path("health").asText()).as(r.path("name").asText() + ": "
                        + r.path("lastError").asText()).isEqualTo("ok"));
    }

    @AfterAll
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
        if (serving != null) {
            serving.close();
            backbone.close();
        }
        if (demo != null) {
            demo.interrupt();
            demo.join(TimeUnit.SECONDS.toMillis(60));
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** The shipped prometheus.yml with every job's target pointed at this JVM, scraped every second. */
    private Path writeConfig(int demoPort, int servingPort) throws IOException {
        ObjectNode config = DeployFiles.prometheusConfig();
        ObjectNode global = (ObjectNode) config.path("global");
        global.put("scrape_interval", "1s");
        global.put("evaluation_interval", "1s");
        config.putArray("rule_files").add(DeployFiles.RULES.toString());
        List<String> jobs = new ArrayList<>();
        for (JsonNode job : config.path("scrape_configs")) {
            String name = job.path("job_name").asText();
            jobs.add(name);
            for (JsonNode sc : job.path("static_configs")) {
                ArrayNode targets = ((ObjectNode) sc).putArray("targets");
                targets.add("127.0.0.1:" + (name.equals("serving") ? servingPort : demoPort));
            }
        }
        assertThat(jobs).as("jobs of deploy/prometheus/prometheus.yml").containsExactlyInAnyOrderElementsOf(JOBS);
        Path file = work.resolve("prometheus.yml");
        DeployFiles.YAML.writeValue(file.toFile(), config);
        return file;
    }

    /** "where: expr: why" for each query that is invalid or returns no series. */
    private List<String> failures(List<DeployFiles.Query> queries) throws Exception {
        List<String> out = new ArrayList<>();
        for (DeployFiles.Query q : queries) {
            JsonNode answer = api("/api/v1/query", q.expr());
            if (!answer.path("status").asText().equals("success")) {
                out.add(q.where() + ": " + q.expr() + ": invalid: " + answer.path("error").asText());
            } else if (answer.path("data").path("result").isEmpty()) {
                out.add(q.where() + ": " + q.expr() + ": no series");
            }
        }
        return out;
    }

    private List<JsonNode> rules() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        JsonNode answer = Json.MAPPER.readTree(http.send(HttpRequest.newBuilder(prometheusUri.resolve("/api/v1/rules"))
                .build(), HttpResponse.BodyHandlers.ofString()).body());
        answer.path("data").path("groups").forEach(g -> g.path("rules").forEach(out::add));
        return out;
    }

    private JsonNode query(String expr) throws Exception {
        JsonNode answer = api("/api/v1/query", expr);
        assertThat(answer.path("status").asText()).as(expr + ": " + answer).isEqualTo("success");
        return answer.path("data").path("result");
    }

    /** The value of a query with one result, or -1 when it has none (yet). */
    private double value(String expr) throws Exception {
        JsonNode result = query(expr);
        return result.isEmpty() ? -1 : Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private JsonNode api(String path, String expr) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(prometheusUri.resolve(path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8)))
                .build();
        return Json.MAPPER.readTree(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
    }

    private int post(URI uri, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /** Polls until the condition holds; fails naming what it waited for, with Prometheus's log. */
    private void await(String what, Duration timeout, CheckedCondition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (IOException e) {
                // Prometheus is still starting
            }
            if (prometheus != null && !prometheus.isAlive()) {
                break;
            }
            Thread.sleep(500);
        }
        String log = Files.exists(work.resolve("prometheus.log")) ? Files.readString(work.resolve("prometheus.log")) : "";
        throw new AssertionError("Timed out after " + timeout.toSeconds() + " s waiting for " + what
                + "; Prometheus log:\n" + log.substring(Math.max(0, log.length() - 4000)));
    }

    @FunctionalInterface
    private interface CheckedCondition {
        boolean holds() throws Exception;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
