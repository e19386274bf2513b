package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.kafka.EmbeddedKafkaBroker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code up} and the registry commands say when they cannot start or are given bad arguments. */
class LocalCommandsTest {
    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Headwater.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    @Test
    void shouldRefuseToStartTheLocalStackOnAPortInUse(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Run r = run("up", "--port", Integer.toString(taken.getLocalPort()), "--data-dir", dir.toString());
            assertThat(r.status()).isEqualTo(1);
            assertThat(r.err()).contains("headwater: port " + taken.getLocalPort() + " (--port) is in use");
        }
    }

    @Test
    void shouldMakeTheStacksTokenAndControllerPortOnceAndKeepThem(@TempDir Path dir) {
        Properties first = UpCommand.settings(dir);
        Properties second = UpCommand.settings(dir);
        assertThat(first.getProperty("registry.admin.token")).hasSizeGreaterThan(20);
        assertThat(second).isEqualTo(first);
    }

    @Test
    void shouldNameABadControllerPortInTheStacksSettings(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(UpCommand.SETTINGS_FILE), "local.controller.port=http\n");
        Run r = run("up", "--port", Integer.toString(EmbeddedKafkaBroker.freePort()), "--data-dir", dir.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("local.controller.port in " + dir.resolve(UpCommand.SETTINGS_FILE)
                + " must be a port number, found 'http'");
    }

    @Test
    void shouldRefuseABrokerAddressAndABadPortOrConfigValue(@TempDir Path dir) {
        Run cluster = run("up", "-b", "kafka:9092", "--data-dir", dir.toString());
        assertThat(cluster.status()).isEqualTo(2);
        assertThat(cluster.err()).contains("Unknown options: '-b'", "Usage: headwater up");
        assertThat(run("up", "--port", "0", "--data-dir", dir.toString()).err())
                .contains("--port must be between 1 and 65535, found 0");
        Run bad = run("up", "--port", Integer.toString(EmbeddedKafkaBroker.freePort()), "--data-dir", dir.toString(),
                "-D", "trainer.head.type=nope");
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).contains("trainer.head.type", "nope");
    }

    @Test
    void shouldSummariseEveryCommandInOneWholeSentenceInTheHelp() {
        // the command list of --help shows the first line of each description
        Headwater.commandLine().getSubcommands().forEach((name, command) -> {
            String[] description = command.getCommandSpec().usageMessage().description();
            if (description.length > 0) {
                assertThat(description[0]).as(name).endsWith(".");
            }
        });
        assertThat(run("--help").out()).contains("demo", "up", "tasks", "predict");
    }

    @Test
    void shouldPrintUsageForMissingArguments() {
        Run rollback = run("rollback", "spam");
        assertThat(rollback.status()).isEqualTo(2);
        assertThat(rollback.err()).contains("Missing required option: '--to=N'", "Usage: headwater rollback");
        Run predict = run("predict", "spam");
        assertThat(predict.status()).isEqualTo(2);
        assertThat(predict.err()).contains("Usage: headwater predict");
        assertThat(run("versions").err()).contains("Missing required parameter: 'TASK'");
    }

    @Test
    void shouldSayWhatIsWrongWithAnAddressATaskOrATokenFile(@TempDir Path dir) throws Exception {
        assertThat(run("tasks", "--registry", "localhost:9470").err())
                .contains("--registry must be an http:// or https:// URL, found 'localhost:9470'");
        assertThat(run("predict", "spam", "hi", "--serving", "ftp://x").err())
                .contains("--serving must be an http:// or https:// URL, found 'ftp://x'");
        assertThat(run("versions", "no/such task").err()).contains("TASK must be 1 to 128 of A-Z a-z 0-9 . _ -");
        assertThat(run("pause", "spam", "-c", dir.resolve("missing.properties").toString()).err())
                .contains("cannot read the config file " + dir.resolve("missing.properties"));
        Path noToken = Files.writeString(dir.resolve("empty.properties"), "bootstrap.servers=x:9092\n");
        assertThat(run("pause", "spam", "-c", noToken.toString()).err())
                .contains("pause needs the registry's admin token: set HEADWATER_ADMIN_TOKEN");
        Path token = Files.writeString(dir.resolve("token.properties"), "registry.admin.token=t\n");
        assertThat(run("rollback", "spam", "--to", "0", "-c", token.toString()).err())
                .contains("--to must be a version >= 1, found 0");
    }

    @Test
    void shouldSayWhenNoRegistryOrServingAnswers() {
        int port = EmbeddedKafkaBroker.freePort();
        Run r = run("tasks", "--registry", "http://localhost:" + port);
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("headwater: no registry API answers at http://localhost:" + port,
                "is headwater up running?");
        assertThat(run("predict", "spam", "hi", "--serving", "http://localhost:" + port).err())
                .contains("no serving endpoint answers at http://localhost:" + port);
    }
}
