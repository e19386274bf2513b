package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.headwater.client.Updates;
import io.headwater.core.DenseLayer;
import io.headwater.core.HeadArtifact;
import io.headwater.kafka.Json;
import io.headwater.kafka.ModelUpdate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Python/NumPy reference reader in schemas/ gives the same probabilities as the Java head on a
 * two-layer artifact, so the format document and the code agree. Skips only where python3 with
 * NumPy is not installed.
 */
class PythonReferenceReaderTest {

    static boolean pythonWithNumpy() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void shouldApplyTheArtifactLikeTheJavaHead() throws Exception {
        Assumptions.assumeTrue(pythonWithNumpy(), "python3 with NumPy is not installed here");
        // given: a relu hidden layer and a softmax over three labels, random weights
        Random rnd = new Random(9);
        float[] w1 = new float[6 * 4];
        float[] b1 = new float[6];
        float[] w2 = new float[3 * 6];
        float[] b2 = new float[3];
        for (float[] a : List.of(w1, b1, w2, b2)) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rnd.nextGaussian();
            }
        }
        HeadArtifact head = new HeadArtifact(List.of("a", "b", "ç"), List.of(
                new DenseLayer(4, 6, w1, b1, DenseLayer.Activation.RELU),
                new DenseLayer(6, 3, w2, b2, DenseLayer.Activation.SOFTMAX)));
        byte[] bytes = head.encode();
        ModelUpdate base = Updates.update("t", 5, Updates.BACKBONE);
        ModelUpdate update = new ModelUpdate(1, "t", 5, 4, "test", head.labels(), base.backbone(),
                new ModelUpdate.Artifact(HeadArtifact.FORMAT, HeadArtifact.sha256(bytes), bytes.length,
                        Base64.getEncoder().encodeToString(bytes)), base.metrics(), base.provenance(), base.createdAt(),
                ModelUpdate.PROMOTED, 0, null);
        float[] x = {0.3f, -1.2f, 0.05f, 2f};
        Path dir = Files.createTempDirectory("pyref");
        Files.write(dir.resolve("update.json"), Json.write(update));
        Files.writeString(dir.resolve("x.json"), "[0.3, -1.2, 0.05, 2.0]");
        // when
        Process p = new ProcessBuilder("python3", Path.of("..", "schemas", "head_artifact.py").toString(),
                dir.resolve("update.json").toString(), dir.resolve("x.json").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        // then
        JsonNode result = Json.MAPPER.readTree(out);
        float[] expected = head.probabilities(x);
        for (int i = 0; i < expected.length; i++) {
            assertThat(result.get("probabilities").get(i).asDouble()).isCloseTo(expected[i], within(1e-5));
        }
        assertThat(result.get("label").asText()).isEqualTo(head.labels().get(head.predict(x)));
        assertThat(result.get("labels").get(2).asText()).isEqualTo("ç");
        assertThat(result.get("version").asLong()).isEqualTo(5);
    }
}
