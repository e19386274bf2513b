package io.headwater.cli.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A report as one {@code index.html} beside its PNG charts (referenced by relative path, so the
 * directory can be copied or served as it is). Used by {@code headwater evaluate} and
 * {@code headwater demo}.
 *
 * <pre>{@code
 * HtmlReport report = new HtmlReport("Evaluation: fortunes");
 * report.heading("Accuracy over time").paragraph("Test-then-train, one pass.").image("prequential.png", "curves");
 * report.table(table);
 * Path index = report.write(dir);
 * }</pre>
 */
public final class HtmlReport {
    private final String title;
    private final StringBuilder body = new StringBuilder();

    public HtmlReport(String title) {
        this.title = title;
    }

    public HtmlReport heading(String text) {
        body.append("<h2>").append(Html.escape(text)).append("</h2>\n");
        return this;
    }

    public HtmlReport paragraph(String text) {
        body.append("<p>").append(Html.escape(text)).append("</p>\n");
        return this;
    }

    /** Preformatted text, e.g. the command that made the report. */
    public HtmlReport code(String text) {
        body.append("<pre>").append(Html.escape(text)).append("</pre>\n");
        return this;
    }

    /** A PNG in the report's directory, by file name. */
    public HtmlReport image(String fileName, String alt) {
        body.append("<p><img src=\"").append(Html.escape(fileName)).append("\" alt=\"").append(Html.escape(alt))
                .append("\"></p>\n");
        return this;
    }

    public HtmlReport table(Table table) {
        body.append(table.toHtml());
        return this;
    }

    public String toHtml() {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + Html.escape(title)
                + "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;}"
                + "table{border-collapse:collapse;margin:1em 0;}th,td{border:1px solid #ccc;padding:2px 8px;}"
                + "td.n{text-align:right;}img{max-width:100%;}pre{background:#f4f4f4;padding:8px;}</style>\n"
                + "</head>\n<body>\n<h1>" + Html.escape(title) + "</h1>\n" + body + "</body>\n</html>\n";
    }

    /** Writes {@code index.html} into {@code dir} (created if missing) and returns its path. */
    public Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            Path index = dir.resolve("index.html");
            Files.writeString(index, toHtml(), StandardCharsets.UTF_8);
            return index;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report in " + dir, e);
        }
    }
}
