package io.headwater.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headwater.core.HeadwaterException;
import io.headwater.kafka.Json;
import io.headwater.registry.RegistryConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The registry's API and serving from the command line: {@code tasks}, {@code versions},
 * {@code rollback}, {@code pin}, {@code unpin}, {@code pause}, {@code resume} and {@code predict}.
 * Readable tables by default, the API's JSON with {@code --json}. The admin token comes from
 * {@value #TOKEN_ENV} or {@code registry.admin.token} in the config file ({@code -c}; by default
 * the local stack's, which {@code headwater up} writes).
 */
final class RegistryCommands {
    static final String TOKEN_ENV = "HEADWATER_ADMIN_TOKEN";
    static final String REGISTRY_ENV = "HEADWATER_REGISTRY_URL";
    static final String SERVING_ENV = "HEADWATER_SERVING_URL";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private RegistryCommands() {
    }

    /** Where the API is, the token, the output format; shared by every command here. */
    static final class ApiOptions {
        @Option(names = "--registry", paramLabel = "URL",
                description = "The registry's API (default: $" + REGISTRY_ENV + ", else http://localhost:9470).")
        String registry;

        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "Properties file with registry.admin.token (default: the local stack's, "
                        + "~/.headwater/local/" + UpCommand.SETTINGS_FILE + ", when it exists).")
        Path config;

        @Option(names = "--json", description = "Print the API's JSON answer instead of a table.")
        boolean json;

        Map<String, String> env = System.getenv();

        URI registry(String path) {
            return uri(Optional.ofNullable(registry).or(() -> Optional.ofNullable(env.get(REGISTRY_ENV)))
                    .orElse("http://localhost:9470"), path, "--registry");
        }

        Optional<String> token() {
            String fromEnv = env.get(TOKEN_ENV);
            if (fromEnv != null && !fromEnv.isBlank()) {
                return Optional.of(fromEnv);
            }
            Path file = config != null ? config
                    : Path.of(System.getProperty("user.home"), ".headwater", "local", UpCommand.SETTINGS_FILE);
            if (config == null && !Files.exists(file)) {
                return Optional.empty();
            }
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            } catch (IOException e) {
                throw new HeadwaterException("cannot read the config file " + file + " (" + e + ")");
            }
            return Optional.ofNullable(p.getProperty(RegistryConfig.ADMIN_TOKEN)).filter(t -> !t.isBlank());
        }
    }

    static URI uri(String base, String path, String option) {
        try {
            URI u = URI.create(base.replaceAll("/+$", "") + path);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new HeadwaterException(option + " must be an http:// or https:// URL, found '" + base + "'");
        }
    }

    /** One call: the JSON answer of a 2xx, else a {@link HeadwaterException} with the API's own error text. */
    static JsonNode send(HttpRequest.Builder request, String what) {
        HttpRequest r = request.timeout(Duration.ofSeconds(30)).header("Accept", "application/json").build();
        HttpResponse<String> response;
        try {
            response = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new HeadwaterException("no " + what + " answers at " + r.uri().getScheme() + "://"
                    + r.uri().getAuthority() + " (" + (e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage()) + "): is headwater up running?");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HeadwaterException("interrupted while calling the " + what);
        }
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(response.body());
        } catch (IOException e) {
            body = Json.MAPPER.createObjectNode();
        }
        if (response.statusCode() / 100 != 2) {
            throw new HeadwaterException("the " + what + " answered " + response.statusCode() + ": "
                    + body.path("error").asText("(no error message)"));
        }
        return body;
    }

    /** Columns, then rows: a table with each column as wide as its widest cell. */
    static void table(PrintWriter out, List<String> header, List<List<String>> rows) {
        int[] width = new int[header.size()];
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> row : all) {
            for (int i = 0; i < row.size(); i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        for (List<String> row : all) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                b.append(i == 0 ? "" : "  ").append(String.format("%-" + width[i] + "s", row.get(i)));
            }
            out.println(b.toString().stripTrailing());
        }
        out.flush();
    }

    private static String accuracy(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%.3f", n.asDouble()) : "-";
    }

    /** Base of the read commands: GET one path, print its JSON or a table. */
    abstract static class Read implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Spec
        CommandSpec spec;

        abstract String path();

        abstract void print(JsonNode answer, PrintWriter out);

        @Override
        public Integer call() {
            JsonNode answer = send(HttpRequest.newBuilder(api.registry(path())).GET(), "registry API");
            PrintWriter out = spec.commandLine().getOut();
            if (api.json) {
                out.println(answer.toPrettyString());
                out.flush();
            } else {
                print(answer, out);
            }
            return 0;
        }
    }

    @Command(name = "tasks", mixinStandardHelpOptions = true,
            description = "List every task with its current version, head type, accuracy and state.")
    static final class Tasks extends Read {
        @Override
        String path() {
            return "/tasks";
        }

        @Override
        void print(JsonNode answer, PrintWriter out) {
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode t : answer.path("tasks")) {
                rows.add(List.of(t.path("task").asText(), "v" + t.path("version").asLong(), t.path("headType").asText(),
                        accuracy(t.path("windowedAccuracy")), t.path("examplesLearned").asText(),
                        t.path("origin").asText(), t.path("paused").asBoolean() ? "paused"
                                : t.path("pinnedVersion").asLong() > 0 ? "pinned v" + t.path("pinnedVersion").asLong()
                                : "live", t.path("createdAt").asText()));
            }
            if (rows.isEmpty()) {
                out.println("No task has a version yet.");
                out.flush();
                return;
            }
            table(out, List.of("TASK", "VERSION", "HEAD", "ACCURACY", "EXAMPLES", "ORIGIN", "STATE", "PUBLISHED"), rows);
        }
    }

    @Command(name = "versions", mixinStandardHelpOptions = true,
            description = "List every version of a task: lineage, head type, examples learned, accuracy, drift.")
    static final class Versions extends Read {
        @Parameters(index = "0", paramLabel = "TASK", description = "The task.")
        String task;

        @Override
        String path() {
            return "/tasks/" + taskPath(task) + "/versions";
        }

        @Override
        void print(JsonNode answer, PrintWriter out) {
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode v : answer.path("versions")) {
                JsonNode m = v.path("metrics");
                long source = v.path("sourceVersion").asLong();
                rows.add(List.of("v" + v.path("version").asLong(),
                        v.path("parentVersion").asLong() > 0 ? "v" + v.path("parentVersion").asLong() : "-",
                        v.path("origin").asText() + (source > 0 ? " of v" + source : ""), v.path("headType").asText(),
                        m.path("examplesLearned").asText(), accuracy(m.path("windowedAccuracy")),
                        m.path("driftDetections").asText("0"), v.path("createdAt").asText(),
                        v.path("artifactSha256").asText().substring(0, Math.min(12, v.path("artifactSha256").asText().length()))));
            }
            table(out, List.of("VERSION", "PARENT", "ORIGIN", "HEAD", "EXAMPLES", "ACCURACY", "DRIFT", "PUBLISHED",
                    "SHA256"), rows);
        }
    }

    /** A task id as the API takes it in a path; anything else is a usage error here, not a 404 there. */
    static String taskPath(String task) {
        if (!task.matches("[A-Za-z0-9._-]{1,128}")) {
            throw new HeadwaterException("TASK must be 1 to 128 of A-Z a-z 0-9 . _ -, found '" + task + "'");
        }
        return task;
    }

    /** Base of the admin commands: POST with the token, print what the registry accepted. */
    abstract static class Admin implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TASK", description = "The task.")
        String task;

        /** The API's call: the command's own name (rollback, pin, unpin, pause, resume). */
        String action() {
            return spec.name();
        }

        /** The request body; the version for rollback and pin. */
        ObjectNode body() {
            return Json.MAPPER.createObjectNode();
        }

        @Override
        public Integer call() {
            String token = api.token().orElseThrow(() -> new HeadwaterException(action() + " needs the registry's "
                    + "admin token: set " + TOKEN_ENV + ", or " + RegistryConfig.ADMIN_TOKEN + " in a config file (-c)"));
            ObjectNode body = body();
            body.put("actor", "cli@" + System.getProperty("user.name", "?"));
            JsonNode answer = send(HttpRequest.newBuilder(api.registry("/tasks/" + taskPath(task) + "/" + action()))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())), "registry API");
            PrintWriter out = spec.commandLine().getOut();
            if (api.json) {
                out.println(answer.toPrettyString());
            } else {
                long v = answer.path("version").asLong();
                out.printf("Accepted %s of task %s%s (command %s); the registry applies it in order with the "
                                + "task's candidates: see headwater versions %s%n", action(), task, v > 0 ? " to v" + v : "",
                        answer.path("id").asText(), task);
            }
            out.flush();
            return 0;
        }
    }

    /** Rollback and pin name the version to republish. */
    abstract static class ToVersion extends Admin {
        @Option(names = "--to", required = true, paramLabel = "N", description = "The version to republish.")
        long version;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the history.")
        String reason;

        @Override
        ObjectNode body() {
            if (version < 1) {
                throw new HeadwaterException("--to must be a version >= 1, found " + version);
            }
            ObjectNode b = super.body().put("version", version);
            return reason == null ? b : b.put("reason", reason);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Republish an earlier version of a task as its next version (needs the admin token).")
    static final class Rollback extends ToVersion {
    }

    @Command(name = "pin", mixinStandardHelpOptions = true,
            description = "Republish a version of a task and hold it: no candidate replaces it until unpin.")
    static final class Pin extends ToVersion {
    }

    @Command(name = "unpin", mixinStandardHelpOptions = true, description = "Let candidates replace a pinned task's version again.")
    static final class Unpin extends Admin {
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Stop publishing a task's candidates (they are rejected, reason paused).")
    static final class Pause extends Admin {
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Publish a paused task's candidates again.")
    static final class Resume extends Admin {
    }

    @Command(name = "predict", mixinStandardHelpOptions = true,
            description = "Ask serving's POST /predict for the labels of one or more texts of a task.")
    static final class Predict implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "TASK", description = "The task.")
        String task;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "TEXT", description = "Texts to label, one each.")
        List<String> texts;

        @Option(names = "--serving", paramLabel = "URL",
                description = "Serving's address (default: $" + SERVING_ENV + ", else http://localhost:8080).")
        String serving;

        @Option(names = "--json", description = "Print serving's JSON answer instead of a table.")
        boolean json;

        @Spec
        CommandSpec spec;

        Function<String, String> env = System::getenv;

        @Override
        public Integer call() {
            String base = Optional.ofNullable(serving).or(() -> Optional.ofNullable(env.apply(SERVING_ENV)))
                    .orElse("http://localhost:8080");
            ObjectNode body = Json.MAPPER.createObjectNode().put("task", task);
            texts.forEach(body.putArray("texts")::add);
            JsonNode answer = send(HttpRequest.newBuilder(uri(base, "/predict", "--serving"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())),
                    "serving endpoint");
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(answer.toPrettyString());
                out.flush();
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            int i = 0;
            for (JsonNode p : answer.path("predictions")) {
                String label = p.path("label").asText();
                String text = texts.get(i++).replaceAll("\\s+", " ");
                rows.add(List.of(label, accuracy(p.path("scores").path(label)),
                        text.length() <= 60 ? text : text.substring(0, 57) + "..."));
            }
            out.printf("task %s, version %d%n", answer.path("task").asText(task), answer.path("version").asLong());
            table(out, List.of("LABEL", "SCORE", "TEXT"), rows);
            return 0;
        }
    }
}
