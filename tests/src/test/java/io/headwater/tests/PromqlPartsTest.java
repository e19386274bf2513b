package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The convention by which alert expressions are checked against a live Prometheus (see rules.yml). */
class PromqlPartsTest {

    @Test
    void shouldDropATopLevelThreshold() {
        assertThat(PromqlParts.parts("sum by (job) (rate(a_total{x=~\"5..\"}[5m])) / sum(b) > 0.05"))
                .containsExactly("sum by (job) (rate(a_total{x=~\"5..\"}[5m])) / sum(b)");
        assertThat(PromqlParts.parts("up{job=~\"a|b\"} == 0")).containsExactly("up{job=~\"a|b\"}");
        assertThat(PromqlParts.parts("0.5 < bool x")).containsExactly("x");
    }

    @Test
    void shouldSplitSetOperatorsAndDropTheirModifiers() {
        assertThat(PromqlParts.parts("time() - max(last_seconds) > 3600\n and on()\n sum(rate(ex_total[15m])) > 0"))
                .containsExactly("time() - max(last_seconds)", "sum(rate(ex_total[15m]))");
        assertThat(PromqlParts.parts("a > 1 unless ignoring(reason) b or c"))
                .containsExactly("a", "b", "c");
    }

    @Test
    void shouldKeepOperatorsInsideBracketsStringsAndNames() {
        assertThat(PromqlParts.parts("(a{reason=\"x and y\"} or b * 0) / c_order_total > 0.01"))
                .containsExactly("(a{reason=\"x and y\"} or b * 0) / c_order_total");
        assertThat(PromqlParts.parts("sum(rate(unless_count_ordered[1m]))"))
                .containsExactly("sum(rate(unless_count_ordered[1m]))");
    }

    @Test
    void shouldCompareTwoSeriesByCheckingBoth() {
        assertThat(PromqlParts.parts("a < b - 0.1")).containsExactly("a", "b - 0.1");
    }

    @Test
    void shouldUnwrapAbsent() {
        assertThat(PromqlParts.parts("absent(up{job=\"x\"})")).containsExactly("up{job=\"x\"}");
        assertThat(PromqlParts.parts("absent_over_time(m[10m])")).containsExactly("m");
    }
}
