package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's configuration reference is what {@code ./headwater config-docs} prints. */
class ConfigDocsCommandTest {
    static final Path README = Path.of("").toAbsolutePath().getParent().getParent().resolve("README.md");
    static final String START = "#### Common (every service)";
    static final String END = "## Metrics";

    @Test
    void shouldMatchTheReadmeWhenEveryKeyIsDocumented() throws Exception {
        // given
        String readme = Files.readString(README);
        String inReadme = readme.substring(readme.indexOf(START), readme.indexOf(END));
        // when
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(new ConfigDocsCommand().call()).isZero();
        } finally {
            System.setOut(old);
        }
        // then
        assertThat(normalized(inReadme)).as("README.md's configuration reference is stale: paste the output of "
                + "./headwater config-docs between '" + START + "' and '" + END + "'")
                .isEqualTo(normalized(out.toString(StandardCharsets.UTF_8)));
    }

    private static String normalized(String s) {
        return s.strip().replaceAll("\n{3,}", "\n\n");
    }
}
