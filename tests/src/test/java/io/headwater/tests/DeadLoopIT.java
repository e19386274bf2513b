package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.headwater.cli.Datasets;
import io.headwater.cli.ExampleProducer;
import io.headwater.client.ModelClient;
import io.headwater.client.Updates;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.EmbeddedKafkaBroker;
import io.headwater.kafka.Faults;
import io.headwater.kafka.FeatureRecord;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.Topics;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Loops that die or wedge, and what shows it: a service whose loop dies of a fatal error logs it
 * once and exits non-zero, for its supervisor to restart; one that wedges with input waiting
 * answers 503 on {@code /health/live} within 30 s while its process lives on; a model client whose
 * listener throws keeps following, and one whose follower dies makes serving unhealthy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DeadLoopIT {
    /** The acceptance bound: liveness fails within this long of a stage stopping or wedging. */
    static final Duration LIVENESS_BOUND = Duration.ofSeconds(30);

    EmbeddedKafkaBroker broker;
    Map<String, Object> clientProps;
    HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() {
        broker = EmbeddedKafkaBroker.start();
        clientProps = HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(),
                Map.of(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers())));
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    @AfterEach
    void clearFaults() {
        Faults.clear();
    }

    Map<String, String> props(String name, Path dir, int metricsPort) {
        Map<String, String> p = new HashMap<>();
        p.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        p.put(HeadwaterConfigs.TOPIC_PREFIX, name + ".");
        p.put(HeadwaterConfigs.METRICS_PORT, Integer.toString(metricsPort));
        p.put(ExtractorConfig.GROUP_ID, name + "-extractor");
        p.put(ExtractorConfig.TRANSACTIONAL_ID, name + "-extractor-0");
        p.put(ExtractorConfig.CACHE_DIR, dir.resolve("cache").toString());
        p.put(ExtractorConfig.BATCH_MAX_RECORDS, "10");
        p.put(TrainerConfig.APPLICATION_ID, name + "-trainer");
        p.put(TrainerConfig.STATE_DIR, dir.resolve("trainer").toString());
        return p;
    }

    void produceExamples(Topics topics, int from, int n) {
        try (ExampleProducer producer = new ExampleProducer(clientProps, topics)) {
            Datasets.bundled("spam").subList(from, from + n).forEach(l -> producer.send("spam", l));
            producer.flush();
        }
    }

    void produceFeatures(Topics topics, int n) throws Exception {
        Random rnd = new Random(3);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(clientProps, new StringSerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                float[] x = new float[8];
                for (int j = 0; j < x.length; j++) {
                    x[j] = (float) rnd.nextGaussian();
                }
                p.send(new ProducerRecord<>(topics.features().name(), "t", new FeatureRecord("f" + i, i % 2 == 0
                        ? "a" : "b", "test", "d".repeat(64), -1, "x", 0, i, x).encode())).get();
            }
        }
    }

    HttpResponse<String> get(int port, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits until {@code path} answers {@code status}; returns the response and how long it took. */
    record Answer(HttpResponse<String> response, long ms) {
    }

    Answer await(int port, String path, int status, Duration timeout) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            last = get(port, path);
            if (last != null && last.statusCode() == status) {
                return new Answer(last, (System.nanoTime() - t0) / 1_000_000);
            }
            Thread.sleep(250);
        }
        throw new AssertionError(path + " did not answer " + status + " within " + timeout + "; last: "
                + (last == null ? "no answer" : last.statusCode() + " " + last.body()));
    }

    static int count(String text, String piece) {
        Matcher m = Pattern.compile(Pattern.quote(piece)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void shouldLogOnceAndExitNonZeroWhenTheExtractorLoopDies() throws Exception {
        // given: an extractor whose first batch meets an unrecoverable error
        Path dir = Files.createTempDirectory("dead-extractor");
        Topics topics = Topics.withPrefix("deadx.");
        int port = EmbeddedKafkaBroker.freePort();
        try (ChildJvm extractor = ChildJvm.headwater("extractor", props("deadx", dir, port),
                List.of("-Dheadwater.fault.extractor.embed=fatal:1"), dir.resolve("extractor.log"))) {
            extractor.start();
            await(port, "/health/ready", 200, Duration.ofMinutes(1));
            // when
            produceExamples(topics, 0, 5);
            // then: the process ends by itself, with status 1 and the cause in its log, once
            assertThat(extractor.waitFor(Duration.ofMinutes(1))).as("exits; log in " + extractor.log()).isTrue();
            assertThat(extractor.exitValue()).as("exit status; log in " + extractor.log()).isEqualTo(1);
            String log = extractor.output();
            assertThat(count(log, "Extractor stopped: FatalException: injected fatal error at extractor.embed"))
                    .as(log).isEqualTo(1);
            assertThat(log).contains("headwater: extractor stopped: FatalException: injected fatal error at "
                    + "extractor.embed; exiting with status 1");
        }
    }

    @Test
    void shouldAnswer503OnLivenessWithin30SecondsWhenTheExtractorWedges() throws Exception {
        // given: an extractor whose second batch hangs in the backbone call
        Path dir = Files.createTempDirectory("wedged-extractor");
        Topics topics = Topics.withPrefix("wedgex.");
        int port = EmbeddedKafkaBroker.freePort();
        try (ChildJvm extractor = ChildJvm.headwater("extractor", props("wedgex", dir, port),
                List.of("-Dheadwater.fault.extractor.embed=hang:2"), dir.resolve("extractor.log"))) {
            extractor.start();
            await(port, "/health/ready", 200, Duration.ofMinutes(1));
            produceExamples(topics, 0, 5);
            assertThat(TopicReader.read(clientProps, topics.features().name(), new StringDeserializer(),
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer(), "read_committed", 5,
                    Duration.ofMinutes(1))).as("the first batch's features").hasSize(5);
            assertThat(get(port, "/health/live").statusCode()).isEqualTo(200);
            // when: the next examples arrive and their batch hangs
            produceExamples(topics, 5, 5);
            Answer down = await(port, "/health/live", 503, LIVENESS_BOUND);
            // then: liveness names the stage and why, the gauge for the alert says 0, the process lives on
            System.out.printf("DeadLoopIT wedged extractor: /health/live 503 after %d ms%n", down.ms());
            assertThat(down.response().body()).contains("extractor DOWN stuck: ").contains("records waiting");
            assertThat(get(port, "/metrics").body()).containsPattern("headwater_health_live\\{[^}]*stage=\"extractor\"[^}]*} 0\\.0");
            assertThat(extractor.alive()).isTrue();
        }
    }

    @Test
    void shouldLogOnceAndExitNonZeroWhenTheTrainerCannotGoOn() throws Exception {
        // given: a trainer whose third record meets an unrecoverable error (outside its poison handling)
        Path dir = Files.createTempDirectory("dead-trainer");
        Topics topics = Topics.withPrefix("deadt.");
        int port = EmbeddedKafkaBroker.freePort();
        try (ChildJvm trainer = ChildJvm.headwater("trainer", props("deadt", dir, port),
                List.of("-Dheadwater.fault.trainer.process=fatal:3"), dir.resolve("trainer.log"))) {
            trainer.start();
            await(port, "/health/ready", 200, Duration.ofMinutes(1));
            // when
            produceFeatures(topics, 10);
            // then
            assertThat(trainer.waitFor(Duration.ofMinutes(1))).as("exits; log in " + trainer.log()).isTrue();
            assertThat(trainer.exitValue()).as("exit status; log in " + trainer.log()).isEqualTo(1);
            String log = trainer.output();
            assertThat(count(log, "trainer cannot go on")).as(log).isEqualTo(1);
            assertThat(log).contains("injected fatal error at trainer.process").contains("exiting with status 1");
        }
    }

    @Test
    void shouldReplaceAFailedStreamThreadAndHandItsTasksOnBeforeItsSessionTimesOut() throws Exception {
        // given: a trainer (static membership) whose stream thread dies of a client error on its 5th record
        Path dir = Files.createTempDirectory("replaced-thread");
        Topics topics = Topics.withPrefix("replaced.");
        int port = EmbeddedKafkaBroker.freePort();
        try (ChildJvm trainer = ChildJvm.headwater("trainer", props("replaced", dir, port),
                List.of("-Dheadwater.fault.trainer.process=kafka:5"), dir.resolve("trainer.log"));
             GroupProgress progress = new GroupProgress(broker.bootstrapServers())) {
            trainer.start();
            await(port, "/health/ready", 200, Duration.ofMinutes(1));
            // when
            long t0 = System.nanoTime();
            produceFeatures(topics, 20);
            // then: the new thread commits all 20 well within the 45 s session timeout the old
            // thread's static member would otherwise hold its tasks for
            long deadline = t0 + Duration.ofSeconds(40).toNanos();
            while (progress.committed("replaced-trainer") < 20 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("DeadLoopIT replaced stream thread: all 20 records committed %d ms after they were written%n",
                    ms);
            assertThat(progress.committed("replaced-trainer")).as("committed; log in " + trainer.log()).isEqualTo(20);
            assertThat(ms).isLessThan(30_000);
            assertThat(trainer.output()).contains("replacing it").contains("removed the failed thread's static member");
            assertThat(get(port, "/metrics").body()).containsPattern(
                    "headwater_streams_threads_replaced_total\\{[^}]*stage=\"trainer\"[^}]*} 1\\.0");
            assertThat(trainer.alive()).isTrue();
            // and when that process is killed and started again, its threads are -1 again: the
            // replacement's static member (-2) must not hold the tasks for its session timeout
            trainer.kill();
            long restartedAt = System.nanoTime();
            trainer.start();
            produceFeatures(topics, 20);
            java.util.OptionalLong restart = progress.millisUntilCommitPast("replaced-trainer", 20, restartedAt,
                    Duration.ofSeconds(40));
            assertThat(restart).as("the restarted trainer commits; log in " + trainer.log()).isPresent();
            System.out.printf("DeadLoopIT restarted after a thread replacement: committed %d ms after its start%n",
                    restart.getAsLong());
            assertThat(restart.getAsLong()).isLessThan(30_000);
            assertThat(trainer.output()).contains("removed 1 static members of replaced threads");
        }
    }

    @Test
    void shouldAnswer503OnLivenessWithin30SecondsWhenAStreamThreadWedges() throws Exception {
        // given: a trainer whose stream thread hangs on its third record
        Path dir = Files.createTempDirectory("wedged-trainer");
        Topics topics = Topics.withPrefix("wedget.");
        int port = EmbeddedKafkaBroker.freePort();
        try (ChildJvm trainer = ChildJvm.headwater("trainer", props("wedget", dir, port),
                List.of("-Dheadwater.fault.trainer.process=hang:3"), dir.resolve("trainer.log"))) {
            trainer.start();
            await(port, "/health/ready", 200, Duration.ofMinutes(1));
            // when
            produceFeatures(topics, 20);
            Answer down = await(port, "/health/live", 503, LIVENESS_BOUND);
            // then
            System.out.printf("DeadLoopIT wedged trainer: /health/live 503 after %d ms%n", down.ms());
            assertThat(down.response().body()).contains("trainer DOWN stuck: ");
            assertThat(trainer.alive()).isTrue();
        }
    }

    @Test
    void shouldEndTheDemoWithStatus1WhenOneOfItsServicesDies() throws Exception {
        // given: the all-in-one demo, whose trainer meets an unrecoverable error on its 50th record
        Path dir = Files.createTempDirectory("dead-demo");
        try (ChildJvm demo = new ChildJvm("demo", List.of("-Xmx1g", "-Dheadwater.fault.trainer.process=fatal:50"),
                "io.headwater.cli.Headwater", List.of("demo", "--tasks", "spam", "--max-examples", "300",
                        "--metrics-port", "-1", "--serving-port", "-1", "--max-seconds", "300",
                        "--report-dir", dir.resolve("report").toString(),
                        "-D", "trainer.state.dir=" + dir.resolve("trainer"),
                        "-D", "registry.state.dir=" + dir.resolve("registry"),
                        "-D", "extractor.cache.dir=" + dir.resolve("cache")), dir.resolve("demo.log"))) {
            // when
            demo.start();
            // then: it stops by itself, long before its 300 s, and says which service and why
            assertThat(demo.waitFor(Duration.ofMinutes(2))).as("demo ends; log in " + demo.log()).isTrue();
            assertThat(demo.exitValue()).as("exit status; log in " + demo.log()).isEqualTo(1);
            assertThat(demo.output()).contains("A service stopped: ").contains("injected fatal error at trainer.process");
        }
    }

    @Test
    void shouldKeepFollowingWhenAListenerThrowsAndLogItOnce() throws Exception {
        // given: a client with a listener that always throws, and one that records
        Topics topics = Topics.withPrefix("listener.");
        try (Admin admin = Admin.create(clientProps)) {
            Topics.ensure(admin, List.of(topics.modelUpdates()), 1, (short) -1);
        }
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger logger = (Logger) org.slf4j.LoggerFactory.getLogger(ModelClient.class);
        logs.start();
        logger.addAppender(logs);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        List<String> seen = new CopyOnWriteArrayList<>();
        try (ModelClient client = ModelClient.builder(clientProps, topics).expectedBackbone(Updates.BACKBONE)
                .meterRegistry(meters).build()) {
            client.addListener(m -> {
                throw new IllegalStateException("listener bug on version " + m.version());
            });
            client.addListener(m -> seen.add(m.task() + "@" + m.version()));
            client.start();
            // when
            publish(topics, List.of(Updates.update("a", 1, Updates.BACKBONE), Updates.update("a", 2, Updates.BACKBONE),
                    Updates.update("a", 3, Updates.BACKBONE)));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            // then: every version arrived, each failure counted, logged at WARN once
            assertThat(seen).containsExactly("a@1", "a@2", "a@3");
            assertThat(meters.get("headwater.client.listener.errors").counter().count()).isEqualTo(3);
            assertThat(logs.list).filteredOn(e -> e.getLevel() == Level.WARN
                    && e.getFormattedMessage().startsWith("A model listener failed")).hasSize(1);
            assertThat(client.health().status().live()).isTrue();
        } finally {
            logger.detachAppender(logs);
        }
    }

    @Test
    void shouldMakeServingUnhealthyWhenItsFollowerDies() throws Exception {
        // given: serving, following model updates
        Topics topics = Topics.withPrefix("follower.");
        Map<String, String> props = new HashMap<>();
        props.put(HeadwaterConfigs.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        props.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        props.put(ServingConfig.PORT, "0");
        try (Admin admin = Admin.create(clientProps)) {
            Topics.ensure(admin, List.of(topics.modelUpdates()), 1, (short) -1);
        }
        try (io.headwater.backbone.Backbone backbone = io.headwater.backbone.Backbone.load(
                io.headwater.backbone.BackboneSpec.defaults());
             Serving serving = Serving.start(new ServingConfig(props), backbone,
                     new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            assertThat(await(serving.port(), "/health/live", 200, Duration.ofSeconds(30)).response().body())
                    .contains("serving UP");
            // when: the follower thread meets an unrecoverable error
            Faults.inject("client.poll", "fatal:1");
            // then
            Answer down = await(serving.port(), "/health/live", 503, LIVENESS_BOUND);
            assertThat(down.response().body()).contains("serving DOWN not following model updates");
            assertThat(serving.failure()).succeedsWithin(Duration.ofSeconds(5));
        }
    }

    void publish(Topics topics, List<ModelUpdate> updates) throws Exception {
        try (KafkaProducer<String, ModelUpdate> producer = new KafkaProducer<>(clientProps, new StringSerializer(),
                topics.modelUpdates().valueSerde().serializer())) {
            for (ModelUpdate u : updates) {
                producer.send(new ProducerRecord<>(topics.modelUpdates().name(), u.task(), u)).get();
            }
        }
    }
}
