package io.headwater.cli;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.MetricsServer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.Optional;

/** The Prometheus registry of a launcher process, with JVM metrics and a {@code service} tag. */
final class Meters {
    private Meters() {
    }

    static PrometheusMeterRegistry registry(String service) {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        r.config().commonTags("service", service);
        new JvmMemoryMetrics().bindTo(r);
        new JvmThreadMetrics().bindTo(r);
        new ProcessorMetrics().bindTo(r);
        @SuppressWarnings("resource")
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(r);
        return r;
    }

    /** Starts the /metrics server on {@code metrics.bind.address} when {@code metrics.port} is not -1. */
    static Optional<MetricsServer> serve(Map<String, String> props, int defaultPort, PrometheusMeterRegistry r) {
        Map<String, String> withPort = new java.util.HashMap<>(props);
        withPort.putIfAbsent(HeadwaterConfigs.METRICS_PORT, Integer.toString(defaultPort));
        var config = HeadwaterConfigs.parse(HeadwaterConfigs.common(), withPort);
        int port = config.getInt(HeadwaterConfigs.METRICS_PORT);
        return port < 0 ? Optional.empty() : Optional.of(MetricsServer.start(new HttpEndpoint(
                config.getString(HeadwaterConfigs.METRICS_BIND_ADDRESS), port, Optional.empty()), r, 4));
    }
}
