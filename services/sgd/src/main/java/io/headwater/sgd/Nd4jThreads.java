package io.headwater.sgd;

import io.headwater.core.ConfigException;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets ND4J's native thread pools (OpenMP and OpenBLAS) once per JVM, before the first head is made.
 * ND4J defaults to every core; a head's micro-batch is far too small to be split over cores (on a
 * 2-core machine one thread was 4x faster than the default), and the trainer already runs one head
 * per stream thread. The number comes from the system property {@value #PROPERTY} (default 1).
 *
 * <pre>{@code
 * java -Dheadwater.sgd.threads=1 ...   # per stream thread; scale with num.stream.threads instead
 * }</pre>
 */
public final class Nd4jThreads {
    public static final String PROPERTY = "headwater.sgd.threads";
    private static final Logger LOG = LoggerFactory.getLogger(Nd4jThreads.class);
    private static volatile boolean configured;

    private Nd4jThreads() {
    }

    /** Applies {@value #PROPERTY} (default 1) to ND4J, the first time only. */
    public static void configureOnce() {
        if (configured) {
            return;
        }
        synchronized (Nd4jThreads.class) {
            if (!configured) {
                int threads = Integer.getInteger(PROPERTY, 1);
                if (threads < 1) {
                    throw new ConfigException(PROPERTY + " must be >= 1, found " + threads);
                }
                Nd4j.getEnvironment().setMaxThreads(threads);
                Nd4j.getEnvironment().setMaxMasterThreads(threads);
                NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
                Nd4j.factory().blas().setMaxThreads(threads);
                LOG.info("ND4J native threads set to {} ({})", threads, PROPERTY);
                configured = true;
            }
        }
    }
}
