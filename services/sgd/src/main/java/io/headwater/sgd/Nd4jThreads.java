package io.headwater.sgd;

import io.headwater.core.ConfigException;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets ND4J's native thread pools (OpenMP and OpenBLAS) once per JVM, before the first head is made,
 * and OpenMP's thread count on every thread that runs a head ({@link #onThisThread()}): OpenMP
 * keeps that count per calling thread, so a count set on the thread that made the first head left
 * every other thread (the trainer's stream threads) at one OpenMP thread per core.
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
    /** The configured count; 0 until {@link #configureOnce()} has run. */
    private static volatile int threads;
    private static final ThreadLocal<Boolean> SET_ON_THIS_THREAD = ThreadLocal.withInitial(() -> false);

    private Nd4jThreads() {
    }

    /** Applies {@value #PROPERTY} (default 1) to ND4J, the first time only. */
    public static void configureOnce() {
        if (threads != 0) {
            return;
        }
        synchronized (Nd4jThreads.class) {
            if (threads == 0) {
                int n = Integer.getInteger(PROPERTY, 1);
                if (n < 1) {
                    throw new ConfigException(PROPERTY + " must be >= 1, found " + n);
                }
                Nd4j.getEnvironment().setMaxThreads(n);
                Nd4j.getEnvironment().setMaxMasterThreads(n);
                NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(n);
                Nd4j.factory().blas().setMaxThreads(n);
                LOG.info("ND4J native threads set to {} ({})", n, PROPERTY);
                threads = n;
            }
        }
    }

    /**
     * {@link #configureOnce()}, then OpenMP's thread count for the calling thread, the first time
     * on each thread. Every head method that may run an ND4J op calls it: with more OpenMP threads
     * than {@value #PROPERTY}, a stream thread's micro-batch steps were split over both cores of a
     * 2-core machine, at about twice the CPU per step.
     */
    public static void onThisThread() {
        if (SET_ON_THIS_THREAD.get()) {
            return;
        }
        configureOnce();
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
        SET_ON_THIS_THREAD.set(true);
    }

    /** OpenMP's thread count for the calling thread: what its ND4J ops may use. */
    public static int openMpThreadsOfThisThread() {
        return NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
    }
}
