package io.headwater.cli;

import io.headwater.cli.report.Charts;
import io.headwater.cli.report.HtmlReport;
import io.headwater.cli.report.Table;
import io.headwater.core.evaluation.Point;
import io.headwater.kafka.ModelUpdate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The demo's report: every published version as the demo saw it, written at the end as
 * {@code index.html} with one chart of windowed accuracy against examples learned per task (a line
 * per head type), the versions published and the throughput.
 *
 * <pre>{@code
 * DemoReport report = new DemoReport();
 * watcher = new ModelUpdateWatcher(props, topics, u -> report.add(u, elapsedSeconds()));
 * Path index = report.write(dir, producedPerTask, elapsedSeconds());
 * }</pre>
 */
final class DemoReport {
    /** One published version, seen {@code seconds} after the demo started. */
    record Update(double seconds, String task, String head, long version, long examples, double accuracy) {
    }

    private final List<Update> updates = new CopyOnWriteArrayList<>();

    /** Called from the update watcher's thread. */
    void add(ModelUpdate u, double seconds) {
        add(new Update(seconds, u.task(), u.headType(), u.version(), u.metrics().examplesLearned(),
                u.metrics().windowedAccuracy()));
    }

    void add(Update u) {
        updates.add(u);
    }

    List<Update> updates() {
        return List.copyOf(updates);
    }

    /** Writes the charts, {@code updates.csv} and {@code index.html} into {@code dir}; returns the index. */
    Path write(Path dir, Map<String, Long> produced, double elapsedSeconds) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the report directory " + dir, e);
        }
        List<Update> all = updates();
        HtmlReport html = new HtmlReport("Headwater demo");
        long learned = 0;
        Table throughput = new Table("task", "produced", "learned", "versions", "examples_per_second");
        Table versions = new Table("task", "head", "version", "seconds", "examples", "windowed_accuracy");
        Map<String, Map<String, List<Point>>> byTask = new TreeMap<>();
        for (Update u : all) {
            versions.row(u.task(), u.head(), u.version(), u.seconds(), u.examples(), u.accuracy());
            byTask.computeIfAbsent(u.task(), t -> new LinkedHashMap<>())
                    .computeIfAbsent(u.head(), h -> new CopyOnWriteArrayList<>()).add(new Point(u.examples(), u.accuracy()));
        }
        for (var e : new TreeMap<>(produced).entrySet()) {
            List<Update> mine = all.stream().filter(u -> u.task().equals(e.getKey())).toList();
            long taskLearned = mine.stream().mapToLong(Update::examples).max().orElse(0);
            learned += taskLearned;
            throughput.row(e.getKey(), e.getValue(), taskLearned, mine.size(), taskLearned / Math.max(elapsedSeconds, 1e-9));
        }
        html.paragraph(String.format(java.util.Locale.ROOT, "%d versions published; %d examples learned in %.1f s "
                + "(%.0f examples/s end to end, broker start-up included).", all.size(), learned, elapsedSeconds,
                learned / Math.max(elapsedSeconds, 1e-9)));
        html.heading("Throughput").table(throughput);
        html.heading("Accuracy over time");
        html.paragraph("Windowed test-then-train accuracy each published version carries, against the examples it "
                + "had learned: one chart per task, one line per head type.");
        byTask.forEach((task, series) -> {
            String png = "accuracy-" + task.replaceAll("[^A-Za-z0-9_.-]", "_") + ".png";
            Charts.line(new Charts.Spec(task + ": windowed accuracy of published versions", "examples learned",
                    "windowed accuracy"), series, List.of(), dir.resolve(png));
            html.image(png, task);
        });
        html.heading("Versions published").table(versions);
        versions.writeCsv(dir.resolve("updates.csv"));
        return html.write(dir);
    }
}
