package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @Test
    void shouldCountExamplesLearnedPerHeadType() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        assertThat(DemoCommand.learnedPerHead(meters)).isEqualTo("0");
        Counter.builder("headwater.trainer.examples").tag("head", "sgd").register(meters).increment(10416);
        Counter.builder("headwater.trainer.examples").tag("head", "lda").register(meters).increment(10416);
        assertThat(DemoCommand.learnedPerHead(meters)).isEqualTo("lda 10416, sgd 10416 (each head learns every example)");
    }

    @Test
    void shouldDeleteADirectoryAndWhatIsInIt(@TempDir Path dir) throws Exception {
        Path state = Files.createDirectories(dir.resolve("headwater-trainer-1/0_1/rocksdb"));
        Files.writeString(state.resolve("LOG"), "x");
        DemoCommand.delete(dir.resolve("headwater-trainer-1"));
        assertThat(dir.resolve("headwater-trainer-1")).doesNotExist();
    }
}
