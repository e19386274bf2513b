package io.headwater.kafka;

import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;

/**
 * What every service's config class shares: parsing against its {@link ConfigDef} (a bad value
 * stops start-up with a message naming key and value), the common keys, and the pass-through of
 * Kafka client settings.
 */
public abstract class ServiceConfig {
    private final AbstractConfig config;
    private final TopicSettings topicSettings;

    protected ServiceConfig(ConfigDef definition, Map<String, ?> props) {
        this.config = HeadwaterConfigs.parse(definition, props);
        this.topicSettings = TopicSettings.of(config);
    }

    /** The parsed values, for keys without an accessor. */
    public AbstractConfig raw() {
        return config;
    }

    /** Partitions, replication factor and min.insync.replicas of the topics the service creates. */
    public TopicSettings topicSettings() {
        return topicSettings;
    }

    public String topicPrefix() {
        return config.getString(HeadwaterConfigs.TOPIC_PREFIX);
    }

    /** Bootstrap servers plus every key that is not Headwater's own, for the Kafka clients. */
    public Map<String, Object> clientProperties() {
        return HeadwaterConfigs.clientProperties(config);
    }
}
