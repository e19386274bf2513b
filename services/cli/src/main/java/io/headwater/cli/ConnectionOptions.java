package io.headwater.cli;

import io.headwater.kafka.HeadwaterConfigs;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Options every command that talks to Kafka shares: a config file, overrides, bootstrap servers. */
public final class ConnectionOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Properties file: Headwater keys and any Kafka client keys (security.protocol, sasl.*, ssl.*).")
    Path configFile;

    @Option(names = {"-D", "--set"}, paramLabel = "KEY=VALUE", description = "Set one config key; wins over the file.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = {"-b", "--bootstrap-servers"}, paramLabel = "HOST:PORT",
            description = "Kafka brokers (same as -D bootstrap.servers=...).")
    String bootstrapServers;

    /** The merged settings: file, then -D, then --bootstrap-servers. */
    public Map<String, String> props() {
        Map<String, String> o = new LinkedHashMap<>(overrides);
        if (bootstrapServers != null) {
            o.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, bootstrapServers);
        }
        return HeadwaterConfigs.load(Optional.ofNullable(configFile), o);
    }
}
