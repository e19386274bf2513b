package io.headwater.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.StreamsService;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TrainerTest {

    @Test
    void shouldFetchEightMegabytesPerPartitionOfFeatures() {
        assertThat(inputFetchBytes(Map.of())).isEqualTo(String.valueOf(Trainer.FETCH_BYTES_PER_PARTITION));
        assertThat(Trainer.FETCH_BYTES_PER_PARTITION).isEqualTo(8 * 1024 * 1024);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "consumer.", "main.consumer."})
    void shouldKeepTheFetchSizeAnOperatorSet(String prefix) {
        assertThat(inputFetchBytes(Map.of(prefix + ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "1048576")))
                .isEqualTo("1048576");
    }

    /** What the stream threads' input consumer is given, as Kafka Streams resolves the prefixes. */
    private static String inputFetchBytes(Map<String, String> props) {
        TrainerConfig config = new TrainerConfig(props);
        StreamsConfig streams = new StreamsConfig(StreamsService.streamsProperties(
                HeadwaterConfigs.clientProperties(config.raw()), Trainer.streamsOverrides(config)));
        return String.valueOf(streams.getMainConsumerConfigs("group", "client", 0)
                .get(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG));
    }
}
