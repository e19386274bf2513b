package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HeadwaterCommandLineTest {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        CommandLine cl = Headwater.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void shouldPrintHelpForEveryCommand() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("demo", "produce", "extractor", "trainer", "registry", "serving", "config-docs");
        for (String cmd : new String[] {"demo", "produce", "extractor", "trainer", "registry", "serving", "config-docs"}) {
            assertThat(run(cmd, "--help")).as(cmd).isZero();
        }
        assertThat(out.toString()).contains("--max-examples", "--max-seconds", "--task", "--bootstrap-servers");
    }

    @Test
    void shouldPrintUsageForABadArgument() {
        assertThat(run("demo", "--max-seconds", "soon")).isEqualTo(2);
        assertThat(err.toString()).contains("Invalid value for option '--max-seconds'", "Usage: headwater demo");
        assertThat(run("produce", "file.jsonl")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--task=<task>'");
        assertThat(run("no-such-command")).isEqualTo(2);
    }

    @Test
    void shouldStopOnABadConfigNamingKeyAndValueBeforeStartingAnything() {
        assertThat(run("demo", "-D", "trainer.candidate.every.examples=0")).isEqualTo(1);
        assertThat(err.toString()).contains("headwater: Invalid value 0 for configuration trainer.candidate.every.examples");
        assertThat(run("demo", "-D", "backbone.name=bert-huge")).isEqualTo(1);
        assertThat(err.toString()).contains("bert-huge");
    }

    @Test
    void shouldNameAnUnknownDemoTask() {
        assertThat(run("demo", "--tasks", "weather")).isEqualTo(1);
        assertThat(err.toString()).contains("unknown demo task 'weather'");
    }
}
