package io.headwater.tests.bench;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/** CPU time of this JVM's live threads, summed by group, for the benchmarks' "where did the time go". */
final class ThreadCpu {
    private ThreadCpu() {
    }

    /** CPU nanoseconds per group, {@code group} naming each thread's group from its name. */
    static Map<String, Long> byGroup(UnaryOperator<String> group) {
        var mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> out = new HashMap<>();
        for (long id : mx.getAllThreadIds()) {
            var info = mx.getThreadInfo(id);
            long cpu = mx.getThreadCpuTime(id);
            if (info != null && cpu > 0) {
                out.merge(group.apply(info.getThreadName()), cpu, Long::sum);
            }
        }
        return out;
    }
}
