package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoReportTest {
    @TempDir
    Path dir;

    @Test
    void shouldWriteAChartPerTaskVersionsAndThroughput() throws Exception {
        DemoReport report = new DemoReport();
        report.add(new DemoReport.Update(10.0, "spam", "lda", 1, 500, 0.9));
        report.add(new DemoReport.Update(12.0, "spam", "lda", 2, 1000, 0.95));
        report.add(new DemoReport.Update(11.0, "fine-foods", "lda", 1, 400, 0.7));

        Path index = report.write(dir, Map.of("spam", 1000L, "fine-foods", 400L), 20.0);

        String html = Files.readString(index);
        assertThat(html).contains("3 versions published; 1400 examples learned in 20.0 s (70 examples/s",
                "<img src=\"accuracy-spam.png\"", "<img src=\"accuracy-fine-foods.png\"",
                "<td>spam</td><td class=\"n\">1000</td><td class=\"n\">1000</td><td class=\"n\">2</td><td class=\"n\">50.000</td>");
        assertThat(ImageIO.read(dir.resolve("accuracy-spam.png").toFile())).isNotNull();
        assertThat(Files.readAllLines(dir.resolve("updates.csv"))).hasSize(4)
                .contains("spam,lda,2,12.0000,1000,0.9500");
    }
}
