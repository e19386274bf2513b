package io.headwater.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The deployment files under {@code deploy/} and {@code docker-compose.yml}, read for tests, and the
 * external tools (prometheus, promtool, docker-compose) that the tests run when they are installed.
 */
final class DeployFiles {
    /** The repository root: tests run in the {@code tests} module's directory. */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path DEPLOY = ROOT.resolve("deploy");
    static final Path PROMETHEUS_CONFIG = DEPLOY.resolve("prometheus/prometheus.yml");
    static final Path RULES = DEPLOY.resolve("prometheus/rules.yml");
    static final Path DASHBOARDS = DEPLOY.resolve("grafana/dashboards");
    static final Path COMPOSE = ROOT.resolve("docker-compose.yml");
    static final ObjectMapper YAML = new YAMLMapper();
    static final ObjectMapper JSON = new ObjectMapper();
    /** Values Grafana puts in for its built-in interval variables when it queries. */
    private static final Pattern GRAFANA_INTERVAL = Pattern.compile("\\$__(rate_interval|interval|range)\\b");
    /** A dashboard variable, $name or ${name}; the tests match everything with it. */
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)}?");
    private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((.*),\\s*[A-Za-z_][A-Za-z0-9_]*\\s*\\)\\s*$",
            Pattern.DOTALL);

    private DeployFiles() {
    }

    static JsonNode readYaml(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot parse " + ROOT.relativize(file), e);
        }
    }

    /** Every document of a multi-document YAML file (Kubernetes manifests), empty ones left out. */
    static List<JsonNode> readYamlDocuments(Path file) {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(file.toFile())) {
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n != null && !n.isNull() && !n.isMissingNode()) {
                    docs.add(n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot parse " + ROOT.relativize(file), e);
        }
        return docs;
    }

    static List<Path> dashboards() {
        try (Stream<Path> s = Files.list(DASHBOARDS)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A PromQL expression of the dashboards or rules, with where it comes from. */
    record Query(String where, String expr) {
    }

    /**
     * Every PromQL expression of every dashboard: each panel target's {@code expr}, and the metric
     * selector inside each query variable's {@code label_values(selector, label)}. Dashboard
     * variables become {@code .*} and Grafana's interval variables {@code 1m}, as if Grafana
     * queried with every variable set to All.
     */
    static List<Query> dashboardQueries() {
        List<Query> out = new ArrayList<>();
        for (Path file : dashboards()) {
            JsonNode d;
            try {
                d = JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot parse " + ROOT.relativize(file), e);
            }
            String name = file.getFileName().toString();
            for (JsonNode v : d.path("templating").path("list")) {
                String q = v.path("query").isObject() ? v.path("query").path("query").asText() : v.path("query").asText();
                Matcher m = LABEL_VALUES.matcher(q);
                if (v.path("type").asText().equals("query") && m.matches()) {
                    out.add(new Query(name + " variable " + v.path("name").asText(), grafanaToPromql(m.group(1))));
                }
            }
            collectTargets(d, name, "", out);
        }
        return out;
    }

    private static void collectTargets(JsonNode node, String file, String panel, List<Query> out) {
        if (node.isObject()) {
            String title = node.has("title") && node.has("type") ? node.path("title").asText() : panel;
            if (node.has("expr") && node.has("refId")) {
                out.add(new Query(file + " panel \"" + panel + "\" " + node.path("refId").asText(),
                        grafanaToPromql(node.path("expr").asText())));
            }
            node.properties().forEach(e -> collectTargets(e.getValue(), file, title, out));
        } else if (node.isArray()) {
            node.forEach(n -> collectTargets(n, file, panel, out));
        }
    }

    static String grafanaToPromql(String expr) {
        String s = GRAFANA_INTERVAL.matcher(expr).replaceAll("1m");
        return VARIABLE.matcher(s).replaceAll(".*");
    }

    /** Every rule expression in rules.yml, split by {@link PromqlParts} into the parts that must return data. */
    static List<Query> ruleQueries() {
        List<Query> out = new ArrayList<>();
        for (JsonNode group : readYaml(RULES).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String name = rule.has("alert") ? rule.path("alert").asText() : rule.path("record").asText();
                for (String part : PromqlParts.parts(rule.path("expr").asText())) {
                    out.add(new Query("rules.yml " + name, part));
                }
            }
        }
        return out;
    }

    /** The job names and targets of the Prometheus scrape config, for the tests to rewrite. */
    static ObjectNode prometheusConfig() {
        return (ObjectNode) readYaml(PROMETHEUS_CONFIG);
    }

    /** An executable on the PATH, or in /usr/bin and /usr/local/bin. */
    static Optional<Path> tool(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/bin", "/usr/local/bin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst();
    }

    /** The result of a finished command. */
    record Run(int exitCode, String output) {
    }

    static Run run(Path dir, String... command) {
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in 120 s: " + out);
            }
            return new Run(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted while running " + String.join(" ", command), e);
        }
    }
}
