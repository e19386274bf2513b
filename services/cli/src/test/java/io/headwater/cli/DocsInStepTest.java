package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The generated parts of the docs are what the code generates today. */
class DocsInStepTest {
    static final Path CONFIGURATION = Path.of("../../docs/configuration.md");
    static final Path SECURITY = Path.of("../../docs/security.md");

    static String run(String... args) {
        StringWriter out = new StringWriter();
        assertThat(Headwater.commandLine().setOut(new PrintWriter(out, true)).execute(args)).isZero();
        return out.toString();
    }

    @Test
    void shouldHaveTheConfigurationReferenceThatConfigDocsPrints() throws Exception {
        // given
        String reference = Files.readString(CONFIGURATION);
        // when
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertThat(Headwater.commandLine().execute("config-docs")).isZero();
        } finally {
            System.setOut(stdout);
        }
        // then: every table, as printed (regenerate with ./headwater config-docs)
        for (String table : bytes.toString(java.nio.charset.StandardCharsets.UTF_8).split("\n\n")) {
            assertThat(reference).as("docs/configuration.md section of ./headwater config-docs").contains(table.strip());
        }
    }

    @Test
    void shouldHaveTheAclTableThatAclsPrints() throws Exception {
        assertThat(Files.readString(SECURITY)).as("docs/security.md table of ./headwater acls --markdown")
                .contains(run("acls", "--markdown").strip());
    }

    @Test
    void shouldPrintKafkaAclsCommandsForAServiceWithTheNamesItsConfigGives() {
        String out = run("acls", "trainer", "--principal", "User:trainer-1", "-D", "topic.prefix=prod.",
                "-D", "trainer.application.id=trainer-eu");
        assertThat(out.lines()).contains(
                "kafka-acls.sh --bootstrap-server BROKER --command-config admin.properties --add --allow-principal "
                        + "User:trainer-1 --operation Read --operation Describe --operation Create --topic prod.features",
                "kafka-acls.sh --bootstrap-server BROKER --command-config admin.properties --add --allow-principal "
                        + "User:trainer-1 --operation Write --operation Describe --operation Create --operation "
                        + "DescribeConfigs --topic prod.features.dlq",
                "kafka-acls.sh --bootstrap-server BROKER --command-config admin.properties --add --allow-principal "
                        + "User:trainer-1 --operation Read --operation Write --operation Describe --operation Create "
                        + "--topic trainer-eu- --resource-pattern-type prefixed",
                "kafka-acls.sh --bootstrap-server BROKER --command-config admin.properties --add --allow-principal "
                        + "User:trainer-1 --operation Read --group trainer-eu",
                "kafka-acls.sh --bootstrap-server BROKER --command-config admin.properties --add --allow-principal "
                        + "User:trainer-1 --operation Write --operation Describe --transactional-id trainer-eu- "
                        + "--resource-pattern-type prefixed");
        assertThat(out.lines()).hasSize(6);
    }

    @Test
    void shouldGrantAnExtractorWithAFixedTransactionalIdThatIdAlone() {
        assertThat(run("acls", "extractor", "-D", "extractor.transactional.id=extractor-0").lines())
                .anyMatch(l -> l.endsWith("--transactional-id extractor-0"));
        assertThat(run("acls", "extractor").lines())
                .anyMatch(l -> l.endsWith("--transactional-id headwater-extractor- --resource-pattern-type prefixed"));
    }

    @Test
    void shouldAskForAServiceWhenNoneIsNamed() {
        StringWriter err = new StringWriter();
        assertThat(Headwater.commandLine().setErr(new PrintWriter(err, true)).execute("acls")).isEqualTo(2);
        assertThat(err.toString()).contains("name a SERVICE, or give --markdown");
    }
}
