package io.headwater.tests;

import io.headwater.kafka.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real single-node KRaft broker in its own JVM, on fixed loopback ports and a data directory
 * kept across restarts, so a test can SIGKILL it, SIGSTOP it, and start it again with its topics,
 * offsets and transactions.
 *
 * <pre>{@code
 * try (ChildBroker broker = ChildBroker.start(dir)) {
 *     broker.kill();
 *     broker.restart();
 * }
 * }</pre>
 */
final class ChildBroker implements AutoCloseable {
    private final ChildJvm jvm;
    private final int port;

    private ChildBroker(ChildJvm jvm, int port) {
        this.jvm = jvm;
        this.port = port;
    }

    static ChildBroker start(Path dir, Map<String, String> brokerProps) {
        int port = EmbeddedKafkaBroker.freePort();
        int controllerPort = EmbeddedKafkaBroker.freePort();
        List<String> args = new ArrayList<>(List.of(Integer.toString(port), Integer.toString(controllerPort),
                dir.resolve("data").toString()));
        brokerProps.forEach((k, v) -> args.add(k + "=" + v));
        ChildJvm jvm = new ChildJvm("broker", List.of("-Xmx1g"), EmbeddedKafkaBroker.class.getName(), args,
                dir.resolve("broker.log"));
        ChildBroker b = new ChildBroker(jvm, port);
        b.restart();
        return b;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    ChildJvm jvm() {
        return jvm;
    }

    /** Starts the broker (again) and waits until it serves. */
    void restart() {
        int before = countReady();
        jvm.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (countReady() == before) {
            if (!jvm.alive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("broker did not start; log in " + jvm.log());
            }
            sleep(100);
        }
    }

    private int countReady() {
        try {
            if (!Files.exists(jvm.log())) {
                return 0;
            }
            return (int) Files.readAllLines(jvm.log()).stream().filter(l -> l.startsWith("READY ")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void kill() {
        jvm.kill();
    }

    void pause() {
        jvm.pause();
    }

    void resume() {
        jvm.resume();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        jvm.kill();
    }
}
