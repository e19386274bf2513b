package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.kafka.EmbeddedKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The demo as a user runs it, in a child JVM with a temp folder of its own: its broker's address, its clean-up. */
class DemoIT {
    @Test
    void shouldPrintItsBrokerOnTheGivenPortAndLeaveNoStateBehind() throws Exception {
        // given
        Path work = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "demo-it-");
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        int port = EmbeddedKafkaBroker.freePort();
        ChildJvm demo = ChildJvm.command("demo", List.of("demo", "--tasks", "spam", "--max-examples", "80",
                "--broker-port", Integer.toString(port), "--bad-examples", "0", "--metrics-port", "-1",
                "--serving-port", "-1", "--report-dir", work.resolve("report").toString(), "-D", "registry.api.port=0",
                "-D", "extractor.cache.dir=" + work.resolve("embeddings")),
                List.of("-Xmx1500m", "-Djava.io.tmpdir=" + tmp), work.resolve("demo.log"));
        try (demo) {
            // when
            demo.start();
            assertThat(demo.waitFor(Duration.ofSeconds(150))).as("the demo ends; its log:\n" + demo.output()).isTrue();
            // then
            assertThat(demo.exitValue()).as(demo.output()).isZero();
            assertThat(demo.output()).contains("Kafka broker on localhost:" + port + " (bootstrap.servers",
                    "spam        v1");
            try (Stream<Path> left = Files.list(tmp)) {
                assertThat(left.map(p -> p.getFileName().toString()))
                        .noneMatch(n -> n.startsWith("headwater-trainer-") || n.startsWith("headwater-registry-"));
            }
        }
    }
}
