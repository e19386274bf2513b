package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.client.LiveModel;
import io.headwater.client.ModelClient;
import io.headwater.client.Updates;
import io.headwater.kafka.BackboneRef;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client library against a real broker: live and late subscribers, tampered and foreign updates. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ModelClientIT {
    static final BackboneRef BACKBONE = Updates.BACKBONE;

    @Test
    void shouldApplyVerifiedUpdatesRefuseTamperedOrForeignOnesAndServeLateSubscribers() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            // given
            Topics topics = Topics.withPrefix("client.");
            Map<String, Object> client = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(
                    HeadwaterConfigs.common(), Map.of(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers())));
            try (Admin admin = Admin.create(client)) {
                Topics.ensure(admin, List.of(topics.modelUpdates()), 1, (short) -1);
            }
            SimpleMeterRegistry liveMeters = new SimpleMeterRegistry();
            List<LiveModel> swapped = new CopyOnWriteArrayList<>();
            try (ModelClient live = ModelClient.builder(client, topics).expectedBackbone(BACKBONE)
                    .meterRegistry(liveMeters).build()) {
                live.addListener(swapped::add);
                live.start();
                // when: versions 1 (good), 2 (tampered), 3 (other backbone), 4 (good) are published
                try (KafkaProducer<String, ModelUpdate> producer = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(),
                        topics.modelUpdates().valueSerde().serializer())) {
                    for (ModelUpdate u : List.of(Updates.update("a", 1, BACKBONE),
                            Updates.tampered(Updates.update("a", 2, BACKBONE)),
                            Updates.update("a", 3, new BackboneRef("other", "b".repeat(64), 4)),
                            Updates.update("a", 4, BACKBONE), Updates.update("b", 1, BACKBONE))) {
                        producer.send(new ProducerRecord<>(topics.modelUpdates().name(), u.task(), u)).get();
                    }
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (swapped.size() < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                // then
                assertThat(swapped).extracting(m -> m.task() + "@" + m.version()).containsExactly("a@1", "a@4", "b@1");
                assertThat(live.predict("a", new float[4]).orElseThrow().version()).isEqualTo(4);
                assertThat(liveMeters.get("headwater.client.refused").tag("reason", "checksum").counter().count())
                        .isEqualTo(1);
                assertThat(liveMeters.get("headwater.client.refused").tag("reason", "backbone").counter().count())
                        .isEqualTo(1);
                assertThat(liveMeters.get("headwater.client.swap.latency").timer().count()).isEqualTo(3);
            }
            // and a client that starts after everything was published gets the current versions
            try (ModelClient late = ModelClient.builder(client, topics).expectedBackbone(BACKBONE).build().start()) {
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (late.tasks().size() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                Thread.sleep(500);
                assertThat(late.current("a").orElseThrow().version()).isEqualTo(4);
                assertThat(late.current("b").orElseThrow().version()).isEqualTo(1);
            }
        }
    }
}
