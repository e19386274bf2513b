package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import io.headwater.core.HeadType;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EvaluateCommandTest {
    @TempDir
    Path dir;

    final StringWriter err = new StringWriter();

    int run(String... args) {
        CommandLine cl = Headwater.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void shouldPrintUsageForBadArguments() {
        assertThat(run("evaluate")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required parameter: 'DATA'", "Usage: headwater evaluate");
        assertThat(run("evaluate", "weather")).isEqualTo(2);
        assertThat(err.toString()).contains("DATA 'weather' is neither a bundled task (spam, fine-foods, fortunes, mnist-digits, fashion-heldout, fortunes-32) nor a file");
        assertThat(run("evaluate", "spam", "--test-fraction", "1.5")).isEqualTo(2);
        assertThat(err.toString()).contains("--test-fraction must be in (0, 1), found 1.5");
        assertThat(run("evaluate", "spam", "--budgets", "50,0")).isEqualTo(2);
        assertThat(err.toString()).contains("--budgets must be >= 1, found 0");
        assertThat(run("evaluate", "spam", "--bow-bits", "30")).isEqualTo(2);
        assertThat(err.toString()).contains("--bow-bits must be in [4, 24], found 30");
        assertThat(run("evaluate", "spam", "-D", "backbone.name=x")).isEqualTo(2);
        assertThat(err.toString()).contains("-D backbone.name: only trainer.* keys (head options) apply to evaluate");
    }

    @Test
    void shouldNameABadHeadOptionAndItsValue() {
        assertThat(run("evaluate", "spam", "-D", "trainer.sgd.learning.rate=-1")).isEqualTo(1);
        assertThat(err.toString()).contains("headwater: Invalid value -1.0 for configuration trainer.sgd.learning.rate");
    }

    @Test
    void shouldRefuseAFileWithOneLabel() throws Exception {
        Path file = dir.resolve("one.jsonl");
        Files.writeString(file, "{\"id\": \"1\", \"text\": \"a\", \"label\": \"x\"}\n{\"id\": \"2\", \"text\": \"b\", \"label\": \"x\"}\n");
        assertThat(run("evaluate", file.toString(), "--out", dir.resolve("out").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("has 2 usable examples with 1 label(s); an evaluation needs at least 2 labels");
    }

    @Test
    void shouldCompareTheImageBackboneWithRawPixelsOnASliceOfTheDigits() throws Exception {
        Path out = dir.resolve("digits");
        int code = run("evaluate", "mnist-digits", "--max-examples", "300", "--budgets", "50", "--repeats", "1",
                "--window", "100", "--out", out.toString());
        assertThat(code).as(err.toString()).isZero();
        String summary = Files.readString(out.resolve("summary.md"));
        assertThat(summary).contains("240 training and 60 held-out examples, 10 labels; backbone fashion-cnn",
                "Transfer: backbone against raw pixels", "128-d embeddings and on 784 raw pixels",
                "| labels | backbone+logreg | pixels+logreg |");
    }

    @Test
    void shouldRefuseDataMixingTextsAndImagesAndBadBase64() throws Exception {
        Path mixed = dir.resolve("mixed.jsonl");
        Files.writeString(mixed, "{\"id\": \"1\", \"text\": \"a\", \"label\": \"x\"}\n"
                + "{\"id\": \"2\", \"image\": \"iVBORw0KGgo=\", \"label\": \"y\"}\n");
        assertThat(run("evaluate", mixed.toString(), "--out", dir.resolve("m").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("line 2 has an image but the first usable line (1) has a text");
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"id\": \"1\", \"image\": \"not base64!\", \"label\": \"x\"}\n"
                + "{\"id\": \"2\", \"image\": \"not base64!\", \"label\": \"y\"}\n");
        assertThat(run("evaluate", bad.toString(), "--out", dir.resolve("b").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("an \"image\" of the data is not valid base64");
    }

    @Test
    void shouldWriteCsvFilesChartsAndASummaryForASmallSliceOfARealTask() throws Exception {
        Path out = dir.resolve("eval");
        int code = run("evaluate", "fortunes-32", "--max-examples", "300", "--budgets", "50,100", "--repeats", "1",
                "--window", "100", "--out", out.toString(), "--cache-dir", "");
        assertThat(code).as(err.toString()).isZero();

        for (String f : new String[] {"prequential", "incremental", "drift", "transfer"}) {
            BufferedImage png = ImageIO.read(out.resolve(f + ".png").toFile());
            assertThat(png).as(f).isNotNull();
            assertThat(png.getWidth()).isPositive();
        }
        assertThat(Files.readString(out.resolve("summary.md"))).contains("# Evaluation: fortunes-32",
                "240 training and 60 held-out examples, 32 labels", "| lda |", "./headwater evaluate fortunes-32");
        assertThat(Files.readString(out.resolve("index.html"))).contains("<img src=\"prequential.png\"");

        List<String[]> curve = csv(out.resolve("prequential.csv"));
        assertThat(curve.get(0)).containsExactly("head", "examples", "windowed_accuracy");
        Map<String, Long> last = new LinkedHashMap<>();
        for (String[] row : curve.subList(1, curve.size())) {
            long examples = Long.parseLong(row[1]);
            assertThat(examples).as(row[0]).isGreaterThan(last.getOrDefault(row[0], 0L));
            last.put(row[0], examples);
            assertThat(Double.parseDouble(row[2])).isBetween(0.0, 1.0);
        }
        // every head type that is on the class path, each over all 240 training examples
        assertThat(last.keySet()).containsExactlyElementsOf(Arrays.stream(HeadType.values())
                .filter(HeadType::available).map(HeadType::id).toList());
        assertThat(last.values()).containsOnly(240L);

        List<String[]> heldOut = csv(out.resolve("heldout.csv"));
        for (String[] row : heldOut.subList(1, heldOut.size())) {
            for (int c = 1; c <= 4; c++) {
                assertThat(Double.parseDouble(row[c])).isBetween(0.0, 1.0);
            }
        }
        // 32 labels, 60 held-out examples: a head that learned anything beats 1 in 32
        assertThat(Double.parseDouble(heldOut.get(1)[3])).isGreaterThan(1.0 / 32);

        List<String[]> transfer = csv(out.resolve("transfer.csv"));
        assertThat(transfer.subList(1, transfer.size())).extracting(r -> r[1])
                .contains("backbone+logreg", "bow+logreg", "backbone+lda");
        assertThat(transfer.subList(1, transfer.size())).allSatisfy(r ->
                assertThat(Double.parseDouble(r[2])).isBetween(0.0, 1.0));
        assertThat(csv(out.resolve("drift.csv")).size()).isGreaterThan(1);
        assertThat(csv(out.resolve("incremental.csv")).stream().map(r -> r[0]).distinct())
                .contains("lda", "sgd", "sgd-no-replay");
    }

    private static List<String[]> csv(Path file) throws Exception {
        return Files.readAllLines(file).stream().map(l -> l.split(",")).toList();
    }
}
