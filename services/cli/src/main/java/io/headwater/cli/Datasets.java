package io.headwater.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.core.ConfigException;
import io.headwater.kafka.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * The labeled data sets bundled in the launcher (from {@code data/}, see {@code data/README.md}),
 * and reading JSON Lines files ({@code .jsonl} or {@code .jsonl.gz}).
 */
public final class Datasets {
    /** Bundled data set per demo task. */
    public static final Map<String, String> BUNDLED = bundled();
    /** Bundled image data sets (base64 PNGs), by task: see data/README.md. */
    public static final Map<String, String> BUNDLED_IMAGES = bundledImages();

    private Datasets() {
    }

    private static Map<String, String> bundled() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("spam", "spam-assassin.jsonl.gz");
        m.put("fine-foods", "fine-foods.jsonl.gz");
        m.put("fortunes", "fortunes.jsonl.gz");
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, String> bundledImages() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mnist-digits", "mnist-digits.jsonl.gz");
        m.put("fashion-heldout", "fashion-heldout.jsonl.gz");
        return Collections.unmodifiableMap(m);
    }

    /** One line of a data file: its raw text, and its JSON when it parses. */
    public record Line(int number, String raw, java.util.Optional<JsonNode> json) {
    }

    /** Lines of a bundled data set, in file order. */
    public static List<Line> bundled(String task) {
        String file = BUNDLED.getOrDefault(task, BUNDLED_IMAGES.get(task));
        if (file == null) {
            throw new ConfigException("unknown demo task '" + task + "', bundled: " + String.join(", ", BUNDLED.keySet())
                    + ", " + String.join(", ", BUNDLED_IMAGES.keySet()));
        }
        InputStream in = Datasets.class.getResourceAsStream("/datasets/" + file);
        if (in == null) {
            throw new ConfigException("data set " + file + " is not on the classpath (was the launcher built?)");
        }
        return read(in, true);
    }

    /** Lines of a file; {@code .gz} files are decompressed. */
    public static List<Line> file(Path path) {
        try {
            return read(Files.newInputStream(path), path.toString().endsWith(".gz"));
        } catch (IOException e) {
            throw new ConfigException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static List<Line> read(InputStream raw, boolean gzip) {
        List<Line> lines = new ArrayList<>();
        try (InputStream in = gzip ? new GZIPInputStream(raw) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String s;
            int n = 0;
            while ((s = r.readLine()) != null) {
                n++;
                if (s.isBlank()) {
                    continue;
                }
                java.util.Optional<JsonNode> json;
                try {
                    JsonNode node = Json.MAPPER.readTree(s);
                    json = node != null && node.isObject() ? java.util.Optional.of(node) : java.util.Optional.empty();
                } catch (IOException e) {
                    json = java.util.Optional.empty();
                }
                lines.add(new Line(n, s, json));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return lines;
    }

    /** A copy shuffled with a fixed seed: the sources are grouped by class. */
    public static <T> List<T> shuffled(List<T> items, long seed) {
        List<T> copy = new ArrayList<>(items);
        Collections.shuffle(copy, new Random(seed));
        return copy;
    }
}
