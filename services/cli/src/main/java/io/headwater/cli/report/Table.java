package io.headwater.cli.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A table of results written three ways: CSV (full precision for doubles, 4 decimals), a Markdown
 * table and an HTML table (3 decimals). Cells are strings, numbers or booleans.
 *
 * <pre>{@code
 * Table t = new Table("head", "examples", "accuracy");
 * t.row("lda", 500, 0.912);
 * t.writeCsv(dir.resolve("prequential.csv"));
 * String md = t.toMarkdown();
 * }</pre>
 */
public final class Table {
    private final List<String> header;
    private final List<List<Object>> rows = new ArrayList<>();

    public Table(String... header) {
        if (header.length == 0) {
            throw new IllegalArgumentException("a table needs at least one column");
        }
        this.header = List.of(header);
    }

    /** Adds a row with one value per column. */
    public Table row(Object... values) {
        if (values.length != header.size()) {
            throw new IllegalArgumentException("row has " + values.length + " values, table has " + header.size()
                    + " columns " + header);
        }
        List<Object> row = new ArrayList<>(values.length);
        for (Object v : values) {
            row.add(v == null ? "" : v);
        }
        rows.add(row);
        return this;
    }

    public List<String> header() {
        return header;
    }

    public int size() {
        return rows.size();
    }

    public String toCsv() {
        StringBuilder sb = new StringBuilder();
        sb.append(header.stream().map(Table::csvCell).collect(Collectors.joining(","))).append('\n');
        for (List<Object> row : rows) {
            sb.append(row.stream().map(v -> csvCell(format(v, 4))).collect(Collectors.joining(","))).append('\n');
        }
        return sb.toString();
    }

    public void writeCsv(Path file) {
        try {
            Files.writeString(file, toCsv(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public String toMarkdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(header.stream().map(Table::mdCell).collect(Collectors.joining(" | "))).append(" |\n");
        sb.append("|").append(header.stream().map(h -> "---").collect(Collectors.joining("|"))).append("|\n");
        for (List<Object> row : rows) {
            sb.append("| ").append(row.stream().map(v -> mdCell(format(v, 3))).collect(Collectors.joining(" | ")))
                    .append(" |\n");
        }
        return sb.toString();
    }

    public String toHtml() {
        StringBuilder sb = new StringBuilder("<table>\n<tr>");
        header.forEach(h -> sb.append("<th>").append(Html.escape(h)).append("</th>"));
        sb.append("</tr>\n");
        for (List<Object> row : rows) {
            sb.append("<tr>");
            row.forEach(v -> sb.append(v instanceof Number ? "<td class=\"n\">" : "<td>")
                    .append(Html.escape(format(v, 3))).append("</td>"));
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    static String format(Object v, int decimals) {
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            return Double.isFinite(d) ? String.format(Locale.ROOT, "%." + decimals + "f", d) : "";
        }
        return v.toString();
    }

    private static String csvCell(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }

    private static String mdCell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }
}
