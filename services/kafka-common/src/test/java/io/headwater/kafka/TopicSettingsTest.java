package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TopicSettingsTest {

    static TopicSettings parsed(Map<String, String> props) {
        return TopicSettings.of(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
    }

    @Test
    void shouldReplicateThreeTimesWithTwoInSyncWhenTheClusterHasThreeOrMoreBrokers() {
        // given: the defaults (automatic)
        TopicSettings auto = parsed(Map.of());
        // when
        TopicSettings.Resolved three = auto.resolve(3);
        TopicSettings.Resolved five = auto.resolve(5);
        // then
        assertThat(three.replicationFactor()).contains((short) 3);
        assertThat(three.minInsyncReplicas()).contains(2);
        assertThat(three.topicConfigs()).containsExactly(Map.entry("min.insync.replicas", "2"));
        assertThat(three.streamsProperties()).containsOnly(Map.entry("replication.factor", 3),
                Map.entry("topic.min.insync.replicas", 2));
        assertThat(five).isEqualTo(three);
    }

    @Test
    void shouldLeaveReplicationToTheBrokerDefaultsWhenTheClusterHasFewerThanThreeBrokers() {
        TopicSettings.Resolved one = parsed(Map.of()).resolve(1);
        TopicSettings.Resolved two = parsed(Map.of()).resolve(2);
        assertThat(one.replicationFactor()).isEmpty();
        assertThat(one.minInsyncReplicas()).isEmpty();
        assertThat(one.topicConfigs()).isEmpty();
        assertThat(one.streamsProperties()).isEmpty();
        assertThat(two).isEqualTo(one);
        assertThat(one).hasToString("3 partitions, replication factor (broker default), min.insync.replicas (broker default)");
    }

    @Test
    void shouldUseExplicitSettingsWhateverTheClusterSize() {
        TopicSettings s = parsed(Map.of("topic.partitions", "6", "topic.replication.factor", "2",
                "topic.min.insync.replicas", "1"));
        assertThat(s.resolve(1)).isEqualTo(new TopicSettings.Resolved(6, Optional.of((short) 2), Optional.of(1)));
        assertThat(s.resolve(9)).isEqualTo(s.resolve(1));
        // an explicit replication factor below 3 keeps the broker's min.insync.replicas when that is automatic
        assertThat(parsed(Map.of("topic.replication.factor", "2")).resolve(3).minInsyncReplicas()).isEmpty();
        assertThat(parsed(Map.of("topic.replication.factor", "5")).resolve(5).minInsyncReplicas()).contains(2);
        assertThat(parsed(Map.of("topic.min.insync.replicas", "3")).resolve(1).minInsyncReplicas()).contains(3);
    }

    @Test
    void shouldStopStartUpNamingKeyAndValueWhenAReplicationSettingIsBad() {
        assertThatThrownBy(() -> parsed(Map.of("topic.replication.factor", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Invalid value 0 for configuration topic.replication.factor")
                .hasMessageContaining("must be -1 (automatic) or >= 1");
        assertThatThrownBy(() -> parsed(Map.of("topic.min.insync.replicas", "-2")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Invalid value -2 for configuration topic.min.insync.replicas");
        assertThatThrownBy(() -> parsed(Map.of("topic.replication.factor", "2", "topic.min.insync.replicas", "3")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("topic.min.insync.replicas must be at most topic.replication.factor (2), found 3: "
                        + "no write would ever be acknowledged");
    }

    @Test
    void shouldRefuseAMinInsyncReplicasAboveTheAutomaticReplicationFactor() {
        TopicSettings s = parsed(Map.of("topic.min.insync.replicas", "4"));
        assertThatThrownBy(() -> s.resolve(3))
                .isInstanceOf(ConfigException.class)
                .hasMessage("topic.min.insync.replicas must be at most the replication factor (3 on 3 brokers), found 4");
    }

    @Test
    void shouldRefuseOutOfRangeValuesBuiltInCode() {
        assertThatThrownBy(() -> new TopicSettings(0, (short) -1, -1)).isInstanceOf(ConfigException.class)
                .hasMessage("topic.partitions must be >= 1, found 0");
        assertThatThrownBy(() -> new TopicSettings(1, (short) 0, -1)).isInstanceOf(ConfigException.class)
                .hasMessage("topic.replication.factor must be -1 or >= 1, found 0");
        assertThatThrownBy(() -> new TopicSettings(1, (short) -1, 0)).isInstanceOf(ConfigException.class)
                .hasMessage("topic.min.insync.replicas must be -1 or >= 1, found 0");
    }
}
