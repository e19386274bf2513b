package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.headwater.core.ConfigException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU only: the float32 MiniLM on CUDA gives the vectors it gives on the CPU. Skipped, with the
 * reason, where CUDA cannot be used: the default (CPU-only) build, or no GPU, driver, CUDA 12 or
 * cuDNN 9. Run it on a GPU machine with {@code ./mvnw -Pgpu -pl services/backbone test
 * -Dtest=CudaBackboneTest}.
 */
class CudaBackboneTest {

    private static final Logger log = LoggerFactory.getLogger(CudaBackboneTest.class);

    private static final double MIN_COSINE = 0.999;

    private static BackboneSpec spec(ExecutionProvider provider) {
        return BackboneSpec.builder()
                .name(BundledModel.ALL_MINILM_L6_V2.id())
                .maxTokens(128)
                .batchSize(16)
                .provider(provider)
                .build();
    }

    private static List<String> texts() {
        List<String> texts = new ArrayList<>(BundledBackbonesTest.SENTENCES);
        for (int i = 0; i < 40; i++) {
            texts.add("Sentence " + i + " about " + "rivers and the sea ".repeat(i % 7));
        }
        return texts;
    }

    @Test
    void shouldEmbedOnCudaAsOnCpu() {
        // given
        Backbone loaded = null;
        String whyNot = "";
        try {
            loaded = Backbone.load(spec(ExecutionProvider.CUDA));
        } catch (ConfigException e) {
            whyNot = e.getMessage();
        }
        String reason = whyNot;
        assumeTrue(loaded != null, () -> "CUDA is not available, skipping the GPU test: " + reason);
        Backbone gpu = loaded;
        List<String> texts = texts();
        try (gpu; Backbone cpu = Backbone.load(spec(ExecutionProvider.CPU))) {

            // when
            float[][] onGpu = gpu.embed(texts);
            float[][] onCpu = cpu.embed(texts);

            // then
            assertThat(gpu.provider()).isEqualTo("cuda:0");
            assertThat(gpu.sha256()).isEqualTo(cpu.sha256());
            double min = 1;
            for (int i = 0; i < texts.size(); i++) {
                double cosine = BackboneTest.cosine(onGpu[i], onCpu[i]);
                min = Math.min(min, cosine);
                assertThat(cosine).as("cosine GPU vs CPU of text %d: %s", i, texts.get(i)).isGreaterThan(MIN_COSINE);
            }
            log.info("Minimum cosine GPU vs CPU over {} texts: {}", texts.size(), min);
        }
    }
}
