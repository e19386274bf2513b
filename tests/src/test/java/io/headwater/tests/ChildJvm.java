package io.headwater.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Java process started from this test's class path, with its output in a log file: a broker or
 * a Headwater service that a fault test can kill hard, stop, continue and start again. Each start
 * appends to the same log, so the log tells the whole story.
 *
 * <pre>{@code
 * ChildJvm trainer = ChildJvm.headwater("trainer", props, log);
 * trainer.start();
 * trainer.kill();
 * }</pre>
 */
final class ChildJvm implements AutoCloseable {
    private final String name;
    private final List<String> command;
    private final Path log;
    private Process process;

    ChildJvm(String name, List<String> jvmArgs, String mainClass, List<String> args, Path log) {
        this.name = name;
        this.log = log;
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dai.djl.offline=true"));
        c.addAll(jvmArgs);
        c.add(mainClass);
        c.addAll(args);
        this.command = List.copyOf(c);
    }

    /**
     * A Headwater service as the launcher runs it ({@code headwater SERVICE -D key=value ...}), with
     * the launcher's own logging configuration (Kafka's warnings shown) and INFO for Headwater.
     */
    static ChildJvm headwater(String service, Map<String, String> props, List<String> jvmArgs, Path log) {
        List<String> args = new ArrayList<>(List.of(service));
        props.forEach((k, v) -> args.addAll(List.of("-D", k + "=" + v)));
        return command(service, args, jvmArgs, log);
    }

    /** {@code headwater ARGS...} as the launcher runs it, e.g. {@code up --port 9092 --data-dir DIR}. */
    static ChildJvm command(String name, List<String> args, List<String> jvmArgs, Path log) {
        List<String> jvm = new ArrayList<>(List.of("-Xmx768m", "-Dlogback.configurationFile=" + launcherLogback()));
        jvm.addAll(jvmArgs);
        return new ChildJvm(name, jvm, "io.headwater.cli.Headwater", args, log);
    }

    /** The launcher's logback.xml, unpacked from the class path (the tests' own would take precedence). */
    private static synchronized String launcherLogback() {
        try {
            Path p = Path.of(System.getProperty("java.io.tmpdir"), "headwater-launcher-logback.xml");
            try (var in = io.headwater.cli.Headwater.class.getResourceAsStream("/logback.xml")) {
                Files.write(p, in.readAllBytes());
            }
            return p.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String name() {
        return name;
    }

    Path log() {
        return log;
    }

    /** Starts the process (again); its output goes to the end of the log. */
    synchronized void start() {
        try {
            Files.writeString(log, "\n===== start of " + name + " at " + java.time.Instant.now() + " =====\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            b.environment().put("HEADWATER_LOG_LEVEL", "INFO");
            process = b.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
    }

    synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    synchronized long pid() {
        return process.pid();
    }

    /** SIGKILL, as a crash or an out-of-memory killer would: no shutdown hook runs. */
    synchronized void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            waitFor(Duration.ofSeconds(30));
        }
    }

    /** SIGTERM and wait: shutdown hooks run, as on Ctrl-C or a rolling restart. */
    synchronized void stop() {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!waitFor(Duration.ofSeconds(60))) {
                kill();
            }
        }
    }

    /** SIGSTOP: the process is frozen, sockets open, as a long GC pause or a stalled host. */
    void pause() {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    void resume() {
        signal("CONT");
    }

    private void signal(String signal) {
        try {
            Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).inheritIO().start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** True when the process ended within {@code timeout}. */
    boolean waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    int exitValue() {
        return process.exitValue();
    }

    /** The log so far. */
    String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        kill();
    }
}
