package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.cli.Headwater;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The local stack as a user runs it: {@code headwater up} in a child JVM on a fixed broker port,
 * examples sent the way kcat sends them ({@code task|json} lines) and with {@code headwater
 * produce}, versions read with {@code headwater versions}, {@code headwater predict} answered with
 * a version, the registry's web page in a real headless Chromium (tables, the chart, a roll back
 * clicked), and after a stop and a second {@code up}, the same versions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalStackIT {
    private static final Pattern REGISTRY = Pattern.compile("Registry API\\s+(http://localhost:\\d+)/tasks");
    private static final Pattern SERVING = Pattern.compile("Predictions\\s+(http://localhost:\\d+)/predict");
    private static final Path TARGET = Path.of("target");
    private static final java.util.logging.Logger SELENIUM_LOG = java.util.logging.Logger.getLogger("org.openqa.selenium");

    private Path dataDir;
    private int brokerPort;
    private ChildJvm stack;
    private String registry;
    private String serving;
    private String versionsBeforeRestart;

    @BeforeAll
    void startTheStack() throws IOException {
        dataDir = Files.createTempDirectory(TARGET.toAbsolutePath(), "local-stack-");
        brokerPort = EmbeddedKafkaBroker.freePort();
        stack = ChildJvm.command("up", List.of("up", "--port", Integer.toString(brokerPort), "--data-dir",
                dataDir.toString(), "--metrics-port", "0", "--serving-port", "0", "--registry-port", "0"),
                List.of("-Xmx1500m"), TARGET.resolve("local-stack.log"));
        startAndReadEndpoints();
    }

    private void startAndReadEndpoints() {
        int from = Files.exists(stack.log()) ? stack.output().length() : 0;
        stack.start();
        await("the local stack prints its endpoints", Duration.ofSeconds(90),
                () -> REGISTRY.matcher(stack.output().substring(from)).find() || !stack.alive());
        String out = stack.output().substring(from);
        assertThat(stack.alive()).as("headwater up is running; its log:\n" + out).isTrue();
        assertThat(out).contains("Kafka broker       localhost:" + brokerPort, "Registry web page  http://localhost:");
        registry = group(REGISTRY, out);
        serving = group(SERVING, out);
    }

    @AfterAll
    void stopTheStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(1)
    void shouldLearnFromKcatAndProduceAndAnswerTheCli() throws Exception {
        // given: 100 food reviews as kcat -K '|' sends them (key before the bar, value after), to the fixed port
        List<String> kcatLines = new ArrayList<>();
        for (String line : firstLines("../data/fine-foods.jsonl.gz", 100)) {
            JsonNode e = Json.MAPPER.readTree(line);
            kcatLines.add("reviews|" + Json.MAPPER.createObjectNode().put("id", e.path("id").asText())
                    .put("task", "reviews").put("text", e.path("text").asText()).put("label", e.path("label").asText()));
        }
        try (KafkaProducer<String, String> kcat = new KafkaProducer<>(Map.of("bootstrap.servers",
                "localhost:" + brokerPort), new StringSerializer(), new StringSerializer())) {
            for (String l : kcatLines) {
                int bar = l.indexOf('|');
                kcat.send(new ProducerRecord<>("headwater.examples", l.substring(0, bar), l.substring(bar + 1)));
            }
        }
        // and 600 fortunes with the produce command, as the README says
        assertThat(cli("produce", "../data/fortunes.jsonl.gz", "--task", "fortunes", "--shuffle-seed", "1",
                "--limit", "600", "-b", "localhost:" + brokerPort)).contains("Sent 600 examples of task fortunes");

        // when: versions appear
        await("versions of both tasks", Duration.ofSeconds(90), () -> {
            String tasks = cliOrEmpty("tasks", "--registry", registry);
            return tasks.contains("reviews ") && tasks.contains("fortunes ") && tasks.contains(" 600 ");
        });

        // then: the CLI's tables and JSON
        String tasks = cli("tasks", "--registry", registry);
        assertThat(tasks.lines().findFirst().orElseThrow()).startsWith("TASK").contains("VERSION", "ACCURACY");
        assertThat(tasks).containsPattern("fortunes\\s+v\\d+\\s+lda\\s+0\\.\\d{3}\\s+600\\s+promoted\\s+live")
                .containsPattern("reviews\\s+v\\d+\\s+lda\\s+0\\.\\d{3}\\s+100\\s+promoted");
        JsonNode versions = Json.MAPPER.readTree(cli("versions", "fortunes", "--registry", registry, "--json"));
        assertThat(versions.path("versions").size()).isGreaterThanOrEqualTo(1);
        assertThat(cli("versions", "fortunes", "--registry", registry)).contains("VERSION", "PARENT", "v1 ");
        String predicted = cli("predict", "fortunes", "A fool and his money are soon parted", "--serving", serving);
        assertThat(predicted).containsPattern("task fortunes, version [1-9]\\d*").contains("LABEL", "SCORE");
        // and what the API refuses, in its own words
        assertThat(cliError("versions", "nosuch", "--registry", registry))
                .contains("headwater: the registry API answered 404: no task 'nosuch'");
        Path wrong = Files.writeString(dataDir.resolve("wrong-token.properties"), "registry.admin.token=wrong\n");
        assertThat(cliError("pause", "fortunes", "--registry", registry, "-c", wrong.toString()))
                .contains("headwater: the registry API answered 401: admin calls need Authorization: Bearer");
    }

    @Test
    @Order(2)
    void shouldShowTheTasksVersionsAndChartInABrowserAndRollBackFromThePage() throws Exception {
        Optional<Path> chromium = onPath("chromium", "chromium-browser", "google-chrome");
        Optional<Path> driverBinary = onPath("chromedriver");
        // Selenium looks for a DevTools binding of this Chromium's version and says so on the log; not used here.
        SELENIUM_LOG.setLevel(java.util.logging.Level.SEVERE);
        Assumptions.assumeTrue(chromium.isPresent() && driverBinary.isPresent(),
                "no Chromium and chromedriver on the PATH (Debian: apt-get install chromium chromium-driver; "
                        + ".ci/run installs them); browser test skipped");
        long before = Json.MAPPER.readTree(cli("versions", "fortunes", "--registry", registry, "--json"))
                .path("versions").size();
        ChromeOptions options = new ChromeOptions().setBinary(chromium.get().toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1600");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverBinary.get().toFile())
                .usingAnyFreePort().build();
        WebDriver browser = new ChromeDriver(service, options);
        try {
            // given: the page, reached from the API's root
            browser.get(registry + "/");
            // The page redraws a table when its data changes: look elements up again rather than hold them.
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.ignoring(StaleElementReferenceException.class);
            wait.until(d -> !d.findElements(By.cssSelector("#tasks tbody tr[data-task='fortunes']")).isEmpty());
            long loadMs = (Long) ((JavascriptExecutor) browser).executeScript(
                    "const t = performance.getEntriesByType('navigation')[0]; return Math.round(t.loadEventEnd - t.startTime);");
            System.out.println("Registry page loaded in " + loadMs + " ms");
            assertThat(browser.getCurrentUrl()).endsWith("/ui/");
            assertThat(textOf(wait, "#tasks tbody tr[data-task='fortunes']")).contains("fortunes", "lda", "600", "live");
            assertThat(textOf(wait, "#tasks tbody tr[data-task='reviews']")).contains("reviews", "100");

            // when: the task is opened
            click(browser, "#tasks tbody tr[data-task='fortunes']");
            wait.until(d -> d.findElements(By.cssSelector("#versions tbody tr")).size() == before);
            wait.until(d -> !d.findElement(By.id("chart")).getAttribute("data-points").isEmpty());
            // then: the chart has a point per version, drawn by Chart.js
            Object points = ((JavascriptExecutor) browser).executeScript(
                    "const c = Chart.getChart(document.getElementById('chart'));"
                            + "return c ? c.data.datasets[0].data.length : -1;");
            assertThat((Long) points).isEqualTo(before);
            assertThat(browser.findElements(By.cssSelector("#decisions tbody tr"))).isNotEmpty();

            // when: roll back to v1 with the admin token
            WebElement token = browser.findElement(By.id("token"));
            token.sendKeys(adminToken());
            ((JavascriptExecutor) browser).executeScript(
                    "arguments[0].dispatchEvent(new Event('change'))", token);
            click(browser, "button.rollback[data-version='1']");
            // then: the command is accepted, and the new version appears at the top of the table
            wait.until(d -> d.findElement(By.id("action-result")).getText().contains("accepted"));
            long next = before + 1;
            wait.until(d -> !d.findElements(By.cssSelector("#versions tbody tr[data-version='" + next + "']")).isEmpty());
            assertThat(textOf(wait, "#versions tbody tr[data-version='" + next + "']")).contains("v" + next, "rollback of v1");
            wait.until(d -> !d.findElements(By.cssSelector("#decisions tbody tr[data-decision='rollback']")).isEmpty());
            Path shot = TARGET.resolve("registry-page.png");
            Files.write(shot, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
            System.out.println("Screenshot of the registry page: " + shot.toAbsolutePath());
        } finally {
            browser.quit();
        }
    }

    @Test
    @Order(3)
    void shouldKeepTheVersionsAcrossAStopAndASecondUp() throws Exception {
        // given
        versionsBeforeRestart = cli("versions", "fortunes", "--registry", registry);
        // when: Ctrl-C (SIGTERM runs the same shutdown hook), then up again on the same data
        stack.stop();
        assertThat(stack.output()).contains("Stopped; topics, state and versions are kept in");
        startAndReadEndpoints();
        // then
        await("the registry answers after the restart", Duration.ofSeconds(60),
                () -> cliOrEmpty("versions", "fortunes", "--registry", registry).equals(versionsBeforeRestart));
        assertThat(cli("versions", "fortunes", "--registry", registry)).isEqualTo(versionsBeforeRestart);
        assertThat(cli("predict", "fortunes", "Life is what happens", "--serving", serving))
                .containsPattern("task fortunes, version [1-9]\\d*");
    }

    /** The text of an element, read in one go, again if the page redrew it meanwhile. */
    private static String textOf(WebDriverWait wait, String css) {
        return wait.until(d -> d.findElement(By.cssSelector(css)).getText());
    }

    /** Clicks an element found and clicked in one script, so a redraw cannot come in between. */
    private static void click(WebDriver browser, String css) {
        Object found = ((JavascriptExecutor) browser).executeScript(
                "const e = document.querySelector(arguments[0]); if (e) e.click(); return e !== null;", css);
        assertThat(found).as("an element " + css + " to click").isEqualTo(Boolean.TRUE);
    }

    private String adminToken() throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(dataDir.resolve("headwater.properties"))) {
            p.load(in);
        }
        return p.getProperty("registry.admin.token");
    }

    /** Runs a headwater command in this JVM; its output, or a failed assertion with its error output. */
    private static String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Headwater.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args);
        assertThat(rc).as("headwater " + String.join(" ", args) + ": " + err).isZero();
        return out.toString();
    }

    private static String cliError(String... args) {
        StringWriter err = new StringWriter();
        int rc = Headwater.commandLine().setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err, true))
                .execute(args);
        assertThat(rc).as("headwater " + String.join(" ", args)).isEqualTo(1);
        return err.toString();
    }

    private static String cliOrEmpty(String... args) {
        StringWriter out = new StringWriter();
        int rc = Headwater.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(new StringWriter()))
                .execute(args);
        return rc == 0 ? out.toString() : "";
    }

    private static List<String> firstLines(String gz, int n) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(Path.of(gz)))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().limit(n).toList();
        }
    }

    private static Optional<Path> onPath(String... names) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            for (String name : names) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    private static String group(Pattern p, String s) {
        Matcher m = p.matcher(s);
        assertThat(m.find()).as(p + " in\n" + s).isTrue();
        return m.group(1);
    }

    private static void await(String what, Duration timeout, BooleanSupplier done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited %s for %s", timeout, what).isLessThan(deadline);
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
