package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Where a backbone's ONNX Runtime session runs: the {@code backbone.provider} setting.
 *
 * <ul>
 *   <li>{@link #AUTO}: CUDA when a CUDA session can be created and run, otherwise the CPU, with one
 *       INFO line saying which and why. Dynamically int8-quantised models always take the CPU.
 *   <li>{@link #CUDA}: CUDA or nothing: start-up fails with a {@link ConfigException} when CUDA is
 *       not available or the model cannot use it.
 *   <li>{@link #CPU}: the CPU, CUDA is never tried.
 * </ul>
 *
 * <p>CUDA needs the {@code onnxruntime_gpu} artifact (build with {@code -Pgpu}) and, on the
 * machine, an NVIDIA driver with the CUDA 12 and cuDNN 9 libraries on the library path. The default
 * build ships the CPU-only {@code onnxruntime}, on which CUDA is never available.
 *
 * <pre>{@code
 * BackboneSpec spec = BackboneSpec.builder()
 *         .name("all-minilm-l6-v2")
 *         .provider(ExecutionProvider.fromConfig("cuda"))
 *         .deviceId(0)
 *         .build();
 * }</pre>
 */
public enum ExecutionProvider {
    /** CUDA when it works, the CPU otherwise. */
    AUTO,
    /** CUDA, failing start-up when it is not available. */
    CUDA,
    /** The CPU only. */
    CPU;

    /** The value as written in configuration: {@code "auto"}, {@code "cuda"} or {@code "cpu"}. */
    public String configValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a {@code backbone.provider} value, ignoring case and surrounding blanks.
     *
     * @throws ConfigException naming the key, the value and the accepted values
     */
    public static ExecutionProvider fromConfig(String value) {
        Objects.requireNonNull(value, "value cannot be null");
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values())
                .filter(p -> p.configValue().equals(wanted))
                .findFirst()
                .orElseThrow(() -> new ConfigException("backbone.provider must be one of ["
                        + Arrays.stream(values()).map(ExecutionProvider::configValue)
                                .collect(Collectors.joining(", "))
                        + "], found '" + value + "'"));
    }
}
