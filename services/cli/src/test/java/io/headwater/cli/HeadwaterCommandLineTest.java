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
        for (String cmd : new String[] {"demo", "produce", "extractor", "trainer", "registry", "serving", "config-docs",
            "keygen", "acls"}) {
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
    void shouldPrintAKeyPairThatTheRegistryAndServingAccept() throws Exception {
        assertThat(run("keygen", "--key-id", "k7")).isZero();
        java.util.Properties p = new java.util.Properties();
        p.load(new java.io.StringReader(out.toString()));
        var registry = new io.headwater.registry.RegistryConfig(java.util.Map.of(
                io.headwater.registry.RegistryConfig.SIGNING_KEY, p.getProperty("registry.signing.private.key"),
                io.headwater.registry.RegistryConfig.SIGNING_KEY_ID, p.getProperty("registry.signing.key.id")));
        var serving = new io.headwater.serving.ServingConfig(java.util.Map.of(
                io.headwater.serving.ServingConfig.TRUSTED_KEYS, p.getProperty("serving.trusted.keys")));
        assertThat(registry.signingKeyId()).isEqualTo("k7");
        assertThat(serving.trustedKeys()).containsOnlyKeys("k7");
        assertThat(run("registry", "-D", "registry.signing.private.key=not-a-key")).isEqualTo(1);
        assertThat(err.toString()).contains("registry.signing.private.key is not a base64 PKCS#8 Ed25519 private key");
    }

    @Test
    void shouldNameAnUnknownDemoTask() {
        assertThat(run("demo", "--tasks", "weather")).isEqualTo(1);
        assertThat(err.toString()).contains("unknown demo task 'weather'");
    }
}
