package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.headwater.core.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Choosing where the backbone runs. On a machine without CUDA (CI), {@code auto} must fall back to
 * the CPU with one INFO line and {@code cuda} must stop start-up; where CUDA works the forced-CUDA
 * failure cannot be seen and that test is skipped.
 */
class ExecutionProviderTest {

    /** float32 MiniLM: not dynamically quantised, so auto really tries CUDA. */
    private static final String FLOAT32 = BundledModel.ALL_MINILM_L6_V2.id();

    private static BackboneSpec spec(String name, ExecutionProvider provider) {
        return BackboneSpec.builder().name(name).maxTokens(64).batchSize(8).provider(provider).build();
    }

    private static List<ILoggingEvent> providerLines(List<ILoggingEvent> events) {
        return events.stream().filter(e -> e.getFormattedMessage().contains("backbone.provider")).toList();
    }

    @Test
    void shouldParseConfigValuesIgnoringCaseAndBlanks() {
        assertThat(ExecutionProvider.fromConfig("auto")).isEqualTo(ExecutionProvider.AUTO);
        assertThat(ExecutionProvider.fromConfig(" CUDA ")).isEqualTo(ExecutionProvider.CUDA);
        assertThat(ExecutionProvider.fromConfig("Cpu")).isEqualTo(ExecutionProvider.CPU);
        assertThat(ExecutionProvider.CUDA.configValue()).isEqualTo("cuda");
    }

    @Test
    void shouldRejectUnknownProviderNamingKeyValueAndChoices() {
        assertThatThrownBy(() -> ExecutionProvider.fromConfig("tpu"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.provider must be one of [auto, cuda, cpu], found 'tpu'");
    }

    @Test
    void shouldChooseCpuAndSayWhyInOneInfoLineWhenAutoFindsNoCuda() {
        // given: auto on a model CUDA could run
        Backbone backbone;
        List<ILoggingEvent> events;
        try (LogCapture log = LogCapture.backbone()) {

            // when
            backbone = Backbone.load(spec(FLOAT32, ExecutionProvider.AUTO));
            events = log.events();
        }
        try (backbone) {
            // then: one INFO line says which provider and why, with no stack trace, and nothing
            // at WARN or above
            List<ILoggingEvent> lines = providerLines(events);
            assertThat(lines).hasSize(1);
            ILoggingEvent line = lines.get(0);
            assertThat(line.getLevel()).isEqualTo(Level.INFO);
            assertThat(line.getThrowableProxy()).isNull();
            assertThat(events).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN));
            if (backbone.provider().equals("cpu")) {
                assertThat(line.getFormattedMessage()).startsWith(
                        "Backbone all-minilm-l6-v2 runs on cpu (backbone.provider=auto): CUDA is not available: ");
            } else {
                assertThat(backbone.provider()).isEqualTo("cuda:0");
                assertThat(line.getFormattedMessage()).startsWith("Backbone all-minilm-l6-v2 runs on cuda:0");
            }
            if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
                // the CPU-only onnxruntime artifact of the default build
                assertThat(backbone.provider()).isEqualTo("cpu");
                assertThat(line.getFormattedMessage()).contains("Failed to find CUDA shared provider", "-Pgpu");
            }
            assertThat(backbone.embed(List.of("still works"))[0]).hasSize(384);
        }
    }

    @Test
    void shouldFailStartUpWithClearMessageWhenCudaIsForcedButNotAvailable() {
        // when
        Throwable thrown = catchThrowable(() -> Backbone.load(spec(FLOAT32, ExecutionProvider.CUDA)).close());

        // then
        assumeTrue(thrown != null, "CUDA works on this machine, so forcing it cannot fail");
        assertThat(thrown)
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("backbone.provider=cuda but CUDA is not available: ");
        if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            assertThat(thrown).hasMessage("backbone.provider=cuda but CUDA is not available: Failed to find "
                    + "CUDA shared provider (ORT_EP_FAIL); this ONNX Runtime is the CPU-only 'onnxruntime' "
                    + "artifact: build with -Pgpu for 'onnxruntime_gpu'");
        }
    }

    @Test
    void shouldRefuseCudaForDynamicallyQuantisedModelRecommendingFloat32() {
        assertThatThrownBy(() -> Backbone.load(spec("all-minilm-l6-v2-q", ExecutionProvider.CUDA)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.provider=cuda but backbone all-minilm-l6-v2-q is dynamically "
                        + "int8-quantised (DynamicQuantizeLinear), which ONNX Runtime runs only on the CPU; "
                        + "use backbone.name=all-minilm-l6-v2 (float32) on the GPU, or backbone.provider=cpu");
    }

    @Test
    void shouldKeepDynamicallyQuantisedModelOnCpuInAutoModeSayingWhy() {
        // given
        List<ILoggingEvent> events;
        try (LogCapture log = LogCapture.backbone();
                Backbone backbone = Backbone.load(spec("bge-small-en-v15-q", ExecutionProvider.AUTO))) {

            // when
            events = log.events();

            // then
            assertThat(backbone.provider()).isEqualTo("cpu");
        }
        assertThat(providerLines(events)).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage)
                .isEqualTo("Backbone bge-small-en-v15-q runs on cpu (backbone.provider=auto): it is dynamically "
                        + "int8-quantised, which ONNX Runtime runs only on the CPU");
    }

    @Test
    void shouldNotTryCudaOrExplainWhenCpuIsForced() {
        // given
        List<ILoggingEvent> events;
        try (LogCapture log = LogCapture.backbone();
                Backbone backbone = Backbone.load(spec("all-minilm-l6-v2-q", ExecutionProvider.CPU))) {

            // when
            events = log.events();

            // then
            assertThat(backbone.provider()).isEqualTo("cpu");
        }
        assertThat(providerLines(events)).isEmpty();
        assertThat(events).anyMatch(e -> e.getFormattedMessage().startsWith("Loaded backbone all-minilm-l6-v2-q")
                && e.getFormattedMessage().contains(") on cpu, row by row"));
    }
}
