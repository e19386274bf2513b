package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StreamsServiceTest {

    @Test
    void shouldRetryAProducerSendAfterTenMillisecondsByDefault() {
        assertThat(producerRetryBackoff(Map.of())).isEqualTo("10");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "producer."})
    void shouldKeepTheRetryBackoffAnOperatorSet(String prefix) {
        assertThat(producerRetryBackoff(Map.of(prefix + ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "250")))
                .isEqualTo("250");
    }

    /** What the stream threads' producer is given, as Kafka Streams resolves the prefixes. */
    private static String producerRetryBackoff(Map<String, Object> operator) {
        Map<String, Object> client = new java.util.HashMap<>(operator);
        client.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        StreamsConfig streams = new StreamsConfig(StreamsService.streamsProperties(client,
                Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "app")));
        return String.valueOf(streams.getProducerConfigs("client").get(ProducerConfig.RETRY_BACKOFF_MS_CONFIG));
    }
}
