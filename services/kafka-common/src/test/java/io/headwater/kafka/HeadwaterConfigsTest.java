package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HeadwaterConfigsTest {

    @Test
    void shouldNameKeyAndValueOfABadSetting() {
        assertThatThrownBy(() -> HeadwaterConfigs.parse(HeadwaterConfigs.common(), Map.of("topic.partitions", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("topic.partitions")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> HeadwaterConfigs.parse(HeadwaterConfigs.common(), Map.of("topic.replication.factor", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("topic.replication.factor")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> HeadwaterConfigs.parse(HeadwaterConfigs.common(), Map.of("topic.min.insync.replicas", "x")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("topic.min.insync.replicas")
                .hasMessageContaining("x");
        assertThatThrownBy(() -> HeadwaterConfigs.parse(HeadwaterConfigs.common(), Map.of("metrics.port", "lots")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("metrics.port")
                .hasMessageContaining("lots");
    }

    @Test
    void shouldPassKafkaClientSettingsThroughAndKeepOwnKeysBack() {
        var config = HeadwaterConfigs.parse(HeadwaterConfigs.common(), Map.of(
                "bootstrap.servers", "a:1,b:2", "security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN",
                "topic.prefix", "x.", "trainer.lda.shrinkage", "0.1"));
        Map<String, Object> client = HeadwaterConfigs.clientProperties(config);
        assertThat(client).containsEntry("bootstrap.servers", "a:1,b:2")
                .containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "PLAIN")
                .doesNotContainKeys("topic.prefix", "trainer.lda.shrinkage");
    }

    @Test
    void shouldLetOverridesWinOverTheFile() throws Exception {
        Path file = Files.createTempFile("headwater", ".properties");
        Files.writeString(file, "topic.prefix = from-file.\nclient.id=c1\n");
        Map<String, String> props = HeadwaterConfigs.load(Optional.of(file), Map.of("topic.prefix", "cli."));
        assertThat(props).containsEntry("topic.prefix", "cli.").containsEntry("client.id", "c1");
    }

    @Test
    void shouldNameAMissingConfigFile() {
        assertThatThrownBy(() -> HeadwaterConfigs.load(Optional.of(Path.of("/nope/x.properties")), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("/nope/x.properties");
    }

    @Test
    void shouldDocumentEveryKey() {
        String md = HeadwaterConfigs.toMarkdown(HeadwaterConfigs.common());
        for (String key : HeadwaterConfigs.common().names()) {
            assertThat(md).contains("`" + key + "`");
        }
    }
}
