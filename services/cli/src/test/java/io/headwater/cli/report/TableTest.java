package io.headwater.cli.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableTest {
    @TempDir
    Path dir;

    final Table table = new Table("head", "examples", "accuracy")
            .row("lda", 500, 0.91234567)
            .row("sgd, replay", 1000, 0.5);

    @Test
    void shouldWriteCsvWithAHeaderQuotingCellsThatNeedIt() throws Exception {
        Path file = dir.resolve("t.csv");
        table.writeCsv(file);
        assertThat(Files.readAllLines(file)).containsExactly(
                "head,examples,accuracy",
                "lda,500,0.9123",
                "\"sgd, replay\",1000,0.5000");
    }

    @Test
    void shouldRenderMarkdownAndHtmlWithThreeDecimalsEscapingSpecialCharacters() {
        assertThat(table.toMarkdown()).isEqualTo("""
                | head | examples | accuracy |
                |---|---|---|
                | lda | 500 | 0.912 |
                | sgd, replay | 1000 | 0.500 |
                """);
        String html = new Table("a|b").row("<x>").toHtml();
        assertThat(html).contains("<th>a|b</th>", "<td>&lt;x&gt;</td>");
        assertThat(new Table("a|b").row("1|2").toMarkdown()).contains("| 1\\|2 |");
    }

    @Test
    void shouldRefuseARowOfTheWrongWidth() {
        assertThatThrownBy(() -> table.row("lda", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("row has 2 values, table has 3 columns");
    }

    @Test
    void shouldWriteAnIndexThatEmbedsTablesAndImagesByRelativePath() throws Exception {
        Path index = new HtmlReport("R & D").heading("Curves").paragraph("a < b").table(table).image("c.png", "curve")
                .write(dir.resolve("report"));
        String html = Files.readString(index);
        assertThat(index.getFileName().toString()).isEqualTo("index.html");
        assertThat(html).contains("<title>R &amp; D</title>", "<h2>Curves</h2>", "<p>a &lt; b</p>",
                "<img src=\"c.png\" alt=\"curve\">", "<td class=\"n\">0.912</td>");
    }
}
