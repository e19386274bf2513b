package io.headwater.backbone;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.headwater.core.ConfigException;
import io.headwater.core.FatalException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens an ONNX Runtime session on the execution provider a spec asks for, shared by the text
 * ({@link OnnxEncoder}) and image ({@link ImageEncoder}) encoders: {@code cpu}, {@code cuda} (or
 * a {@link ConfigException} saying why not) or {@code auto} (CUDA when a session can be created and
 * run there, the CPU otherwise, with one INFO line saying which). Each session is checked and run
 * once by the caller's {@link Check}, so a CUDA set-up that fails only at the first run still falls
 * back under {@code auto}.
 */
final class Sessions {

    private static final Logger log = LoggerFactory.getLogger(Sessions.class);

    private Sessions() {
    }

    /** What to open: a model's id, where it comes from, and how to create a session on it. */
    interface Graph {
        String id();

        /** A file path or {@code classpath:/x.onnx}, for messages. */
        String source();

        /** How a message names it: "backbone &lt;id&gt;" when bundled, "model &lt;path&gt;" otherwise. */
        String describe();

        /** Whether the graph has DynamicQuantizeLinear nodes, which ONNX Runtime runs only on the CPU. */
        boolean dynamicallyQuantized();

        /** What to do on a GPU instead, for the message that refuses a quantised graph. */
        String gpuAdvice();

        OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException;
    }

    /** Checks a new session's signature and runs a probe through it; the session is closed on failure. */
    interface Check<T> {
        T check(OrtEnvironment environment, OrtSession session, String provider) throws OrtException;
    }

    /** CUDA could not be used; the message says why, ready to follow "CUDA is not available: ". */
    private static final class CudaUnavailable extends Exception {
        private static final long serialVersionUID = 1L;

        CudaUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Opens, checks and probes a session on the provider asked for.
     *
     * @param intraOpThreads threads for one operator; 0 leaves ONNX Runtime's default
     * @throws ConfigException if the check fails or {@link ExecutionProvider#CUDA} cannot be had
     * @throws FatalException if ONNX Runtime cannot load or run the model on the CPU
     */
    static <T> T open(Graph graph, ExecutionProvider provider, int deviceId, int intraOpThreads, Check<T> check) {
        return switch (provider) {
            case CPU -> openCpu(graph, intraOpThreads, check);
            case CUDA -> {
                if (graph.dynamicallyQuantized()) {
                    throw new ConfigException("backbone.provider=cuda but " + graph.describe()
                            + " is dynamically int8-quantised (DynamicQuantizeLinear), which ONNX Runtime "
                            + "runs only on the CPU; " + graph.gpuAdvice());
                }
                try {
                    yield openCuda(graph, deviceId, intraOpThreads, check);
                } catch (CudaUnavailable e) {
                    throw new ConfigException("backbone.provider=cuda but CUDA is not available: "
                            + e.getMessage(), e.getCause());
                }
            }
            case AUTO -> {
                if (graph.dynamicallyQuantized()) {
                    log.info("Backbone {} runs on cpu (backbone.provider=auto): it is dynamically "
                            + "int8-quantised, which ONNX Runtime runs only on the CPU", graph.id());
                    yield openCpu(graph, intraOpThreads, check);
                }
                try {
                    T opened = openCuda(graph, deviceId, intraOpThreads, check);
                    log.info("Backbone {} runs on cuda:{} (backbone.provider=auto): a CUDA session was "
                            + "created and ran", graph.id(), deviceId);
                    yield opened;
                } catch (CudaUnavailable e) {
                    log.info("Backbone {} runs on cpu (backbone.provider=auto): CUDA is not available: {}",
                            graph.id(), e.getMessage());
                    yield openCpu(graph, intraOpThreads, check);
                }
            }
        };
    }

    private static <T> T openCpu(Graph graph, int intraOpThreads, Check<T> check) {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtSession session;
        try (OrtSession.SessionOptions options = baseOptions(intraOpThreads)) {
            session = graph.createSession(environment, options);
        } catch (OrtException e) {
            throw new FatalException("Failed to create ONNX Runtime session for backbone " + graph.id()
                    + " from " + graph.source() + ": " + ortMessage(e), e);
        }
        try {
            return check.check(environment, session, "cpu");
        } catch (OrtException e) {
            closeQuietly(graph.id(), session);
            throw new FatalException("Failed to run backbone " + graph.id() + " on a probe batch on the CPU: "
                    + ortMessage(e), e);
        } catch (RuntimeException e) {
            closeQuietly(graph.id(), session);
            throw e;
        }
    }

    private static <T> T openCuda(Graph graph, int deviceId, int intraOpThreads, Check<T> check)
            throws CudaUnavailable {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        String device = "cuda:" + deviceId;
        OrtSession session;
        try (OrtSession.SessionOptions options = baseOptions(intraOpThreads)) {
            try {
                options.addCUDA(deviceId);
            } catch (OrtException e) {
                throw new CudaUnavailable(ortMessage(e) + cudaHint(e), e);
            }
            session = graph.createSession(environment, options);
        } catch (OrtException e) {
            throw new CudaUnavailable("creating a session for backbone " + graph.id() + " on " + device
                    + " failed: " + ortMessage(e), e);
        }
        try {
            return check.check(environment, session, device);
        } catch (OrtException e) {
            closeQuietly(graph.id(), session);
            throw new CudaUnavailable("running backbone " + graph.id() + " on " + device + " failed: "
                    + ortMessage(e), e);
        } catch (RuntimeException e) {
            closeQuietly(graph.id(), session);
            throw e;
        }
    }

    private static OrtSession.SessionOptions baseOptions(int intraOpThreads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            // One sequential graph: inter-op threads would only compete with the intra-op pool.
            options.setInterOpNumThreads(1);
            return options;
        } catch (OrtException e) {
            options.close();
            throw e;
        }
    }

    /** Closes a session; logs and never throws. The shared environment stays open. */
    static void closeQuietly(String id, OrtSession toClose) {
        try {
            toClose.close();
        } catch (OrtException e) {
            log.warn("Failed to close ONNX Runtime session of backbone {}", id, e);
        }
    }

    /** ONNX Runtime's message without its "Error code - X - message: " wrapping. */
    static String ortMessage(OrtException e) {
        String message = String.valueOf(e.getMessage());
        int at = message.indexOf("message: ");
        String text = at >= 0 ? message.substring(at + "message: ".length()) : message;
        return text.strip() + " (" + e.getCode() + ")";
    }

    /** What to do about a failed addCUDA: the two causes seen in practice. */
    private static String cudaHint(OrtException e) {
        if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            return "; this ONNX Runtime is the CPU-only 'onnxruntime' artifact: build with -Pgpu for "
                    + "'onnxruntime_gpu'";
        }
        return String.valueOf(e.getMessage()).contains("Failed to load shared library")
                ? "; onnxruntime_gpu needs an NVIDIA driver and the CUDA 12 (libcudart.so.12, libcublas.so.12, "
                        + "libcublasLt.so.12, libcurand.so.10, libcufft.so.11) and cuDNN 9 (libcudnn.so.9) "
                        + "libraries on the library path; ONNX Runtime's own log line names the one it missed"
                : "";
    }
}
