package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.backbone.Backbone;
import io.headwater.cli.Datasets;
import io.headwater.cli.Headwater;
import io.headwater.cli.ModelUpdateWatcher;
import io.headwater.cli.ServiceAcls;
import io.headwater.cli.ServiceAcls.Service;
import io.headwater.client.ModelClient;
import io.headwater.core.FatalException;
import io.headwater.extractor.Extractor;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Json;
import io.headwater.kafka.KafkaAccess;
import io.headwater.kafka.ModelUpdate;
import io.headwater.kafka.StreamsService;
import io.headwater.kafka.Topics;
import io.headwater.kafka.UpdateSignature;
import io.headwater.registry.Registry;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.Serving;
import io.headwater.serving.ServingConfig;
import io.headwater.trainer.Trainer;
import io.headwater.trainer.TrainerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Headwater on a secured cluster: the in-process broker with only a SASL_SSL listener (SCRAM-SHA-512
 * over TLS, certificates made for the run) and its authorizer on. Every part of the loop runs as its
 * own user, configured by one properties file of standard Kafka client settings, with exactly the
 * ACLs {@link ServiceAcls} lists for it (the README's table) and nothing else: the {@code produce}
 * command, extractor, trainer, registry, serving (the client library) and the demo's watcher.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SecurityIT {
    static final String TASK = "spam";
    static final int EXAMPLES = 300;

    SecureKafka kafka;
    Path dir;
    Topics topics = Topics.withPrefix("sec.");
    Map<String, String> headwater = new HashMap<>();
    final Map<Service, String> passwords = new HashMap<>();

    @BeforeAll
    void secureTheCluster() throws Exception {
        dir = Files.createTempDirectory("headwater-security-");
        kafka = SecureKafka.start(dir);
        headwater.put(HeadwaterConfigs.TOPIC_PREFIX, topics.prefix());
        headwater.put(HeadwaterConfigs.TOPIC_PARTITIONS, "2");
        for (Service s : Service.values()) {
            String password = s.id() + "-" + Long.toHexString(System.nanoTime());
            kafka.addUser(s.id(), password);
            kafka.allow(ServiceAcls.bindings(s, headwater, "User:" + s.id()));
            passwords.put(s, password);
        }
    }

    @AfterAll
    void tearDown() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** What the service reads with {@code -c FILE}: its own properties file, standard Kafka keys plus Headwater's. */
    Map<String, String> configFile(Service s, Map<String, String> own) throws Exception {
        Map<String, String> extra = new HashMap<>(headwater);
        extra.putAll(own);
        Path file = kafka.propertiesFile(dir, s.id(), passwords.get(s), extra);
        return HeadwaterConfigs.load(Optional.of(file), Map.of());
    }

    @Test
    void shouldRunTheWholeLoopOverSaslSslWithOnlyEachServicesAcls() throws Exception {
        // given: every service as its own user, with nothing but its ACLs
        KeyPair signing = UpdateSignature.generate();
        Map<String, String> extractorProps = configFile(Service.EXTRACTOR, Map.of(
                ExtractorConfig.CACHE_DIR, Files.createTempDirectory(dir, "cache").toString()));
        Map<String, String> trainerProps = configFile(Service.TRAINER, Map.of(
                TrainerConfig.STATE_DIR, Files.createTempDirectory(dir, "trainer").toString(),
                TrainerConfig.CANDIDATE_EVERY_EXAMPLES, "100", TrainerConfig.CANDIDATE_EVERY_MS, "2000"));
        Map<String, String> registryProps = configFile(Service.REGISTRY, Map.of(
                RegistryConfig.STATE_DIR, Files.createTempDirectory(dir, "registry").toString(),
                RegistryConfig.API_PORT, "0", RegistryConfig.API_BIND_ADDRESS, "127.0.0.1",
                RegistryConfig.SIGNING_KEY, UpdateSignature.encode(signing.getPrivate()),
                RegistryConfig.SIGNING_KEY_ID, "sec-1"));
        Map<String, String> servingProps = configFile(Service.CLIENT, Map.of(ServingConfig.PORT, "0",
                ServingConfig.BIND_ADDRESS, "127.0.0.1",
                ServingConfig.TRUSTED_KEYS, "sec-1:" + UpdateSignature.encode(signing.getPublic())));
        Path producerFile = kafka.propertiesFile(dir, Service.PRODUCER.id(), passwords.get(Service.PRODUCER), headwater);
        Path data = dir.resolve("spam.jsonl");
        Files.write(data, Datasets.bundled(TASK).stream().map(Datasets.Line::raw).toList());
        SimpleMeterRegistry meters = new SimpleMeterRegistry();

        ExtractorConfig extractorConfig = new ExtractorConfig(extractorProps);
        Extractor.ensureTopics(extractorConfig);
        try (Backbone backbone = Backbone.load(extractorConfig.backboneSpec());
             Extractor extractor = new Extractor(extractorConfig, backbone, meters);
             StreamsService trainer = Trainer.start(new TrainerConfig(trainerProps), meters);
             Registry registry = Registry.start(new RegistryConfig(registryProps), meters);
             ModelUpdateWatcher watcher = new ModelUpdateWatcher(toClient(configFile(Service.WATCHER, Map.of())),
                     topics, u -> { });
             Serving serving = Serving.start(new ServingConfig(servingProps), backbone,
                     new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            Thread extractorThread = new Thread(extractor, "sec-extractor");
            extractorThread.start();

            // when: the produce command sends a data file with its own properties file
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = Headwater.commandLine().setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
                    .execute("produce", data.toString(), "--task", TASK, "--shuffle-seed", "42",
                            "--limit", Integer.toString(EXAMPLES), "-c", producerFile.toString());
            assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();

            // then: every example is embedded, learned and judged, and versions are published, signed
            await(() -> watcher.decidedOn(TASK, "lda", EXAMPLES), Duration.ofMinutes(3), () -> "decisions "
                    + watcher.decisions(TASK).stream().map(d -> d.decision() + "@" + (d.candidate() == null ? 0
                    : d.candidate().metrics().examplesLearned())).collect(Collectors.joining(", ")));
            assertThat(extractor.healthy()).isTrue();
            assertThat(trainer.healthy()).isTrue();
            assertThat(registry.healthy()).isTrue();
            ModelUpdate newest = watcher.latest(TASK).orElseThrow();
            assertThat(newest.signature().keyId()).isEqualTo("sec-1");
            assertThat(UpdateSignature.verifies(newest, signing.getPublic())).isTrue();
            assertThat(watcher.updates(TASK)).extracting(ModelUpdate::version)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, newest.version()).boxed()
                            .toList());

            // and serving, on the client library, swaps to it and answers /predict with it
            await(() -> serving.client().current(TASK).map(m -> m.version() == newest.version()).orElse(false),
                    Duration.ofSeconds(30), () -> "serving at " + serving.client().current(TASK));
            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + serving.port() + "/predict")).POST(HttpRequest.BodyPublishers
                    .ofString("{\"task\": \"spam\", \"text\": \"WIN a FREE prize now!!! click here to claim your cash\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(Json.MAPPER.readTree(answer.body()).path("version").asLong()).isEqualTo(newest.version());
        }
    }

    @Test
    void shouldRefuseAProducerWithoutWriteAccessToModelUpdates() throws Exception {
        // given: the trainer's user, which may write model-candidates but not model-updates
        Map<String, Object> props = new HashMap<>(kafka.clientProps(Service.TRAINER.id(), passwords.get(Service.TRAINER)));
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer());
             org.apache.kafka.clients.admin.Admin admin = kafka.admin()) {
            io.headwater.kafka.Topics.ensure(admin, List.of(topics.modelUpdates()), 2, (short) -1);
            // when: it publishes a model update of its own
            var sent = producer.send(new ProducerRecord<>(topics.modelUpdates().name(), "intruder",
                    "{\"task\": \"intruder\"}".getBytes(StandardCharsets.UTF_8)));
            // then: the broker refuses it, naming the topic, and nothing reaches the topic
            assertThatThrownBy(sent::get).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(TopicAuthorizationException.class)
                    .hasMessageContaining(topics.modelUpdates().name());
        }
        assertThat(TopicReader.read(kafka.clientProps(SecureKafka.ADMIN, adminPassword()), topics.modelUpdates().name(),
                new StringDeserializer(), new StringDeserializer(), "read_uncommitted", Integer.MAX_VALUE,
                Duration.ofSeconds(10))).extracting(r -> r.key()).doesNotContain("intruder");
    }

    private String adminPassword() {
        return kafka.adminPassword();
    }

    @Test
    void shouldFailAtStartUpNamingListenerAndMechanismWhenThePasswordIsWrong() throws Exception {
        // given: every service's properties with a wrong password
        Map<String, String> wrong = new HashMap<>(headwater);
        kafka.clientProps("registry", "not-the-password").forEach((k, v) -> wrong.put(k, v.toString()));
        wrong.put(RegistryConfig.API_PORT, "-1");
        wrong.put(TrainerConfig.STATE_DIR, Files.createTempDirectory(dir, "wrong").toString());
        wrong.put(RegistryConfig.STATE_DIR, Files.createTempDirectory(dir, "wrong").toString());
        Map<String, Supplier<AutoCloseable>> starts = Map.of(
                "registry", () -> Registry.start(new RegistryConfig(wrong), new SimpleMeterRegistry()),
                "trainer", () -> Trainer.start(new TrainerConfig(wrong), new SimpleMeterRegistry()),
                "extractor", () -> {
                    Extractor.ensureTopics(new ExtractorConfig(wrong));
                    return () -> { };
                },
                "client", () -> ModelClient.builder(toClient(wrong), topics).expectedBackbone(
                        io.headwater.client.Updates.BACKBONE).build().start(),
                "watcher", () -> new ModelUpdateWatcher(toClient(wrong), topics, u -> { }));
        for (var start : starts.entrySet()) {
            long t0 = System.nanoTime();
            // when / then: start-up stops at once with what failed and where
            assertThatThrownBy(() -> start.getValue().get().close()).as(start.getKey())
                    .isInstanceOf(FatalException.class)
                    .hasMessageContaining("Kafka at " + kafka.bootstrapServers())
                    .hasMessageContaining("refused this client on its SASL_SSL listener with SASL mechanism SCRAM-SHA-512")
                    .hasMessageContaining("sasl.jaas.config");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as(start.getKey()).isLessThan(Duration.ofSeconds(30));
        }
        // and the produce command says so and exits 1
        Path file = dir.resolve("wrong.properties");
        java.util.Properties p = new java.util.Properties();
        p.putAll(wrong);
        try (var out = Files.newOutputStream(file)) {
            p.store(out, null);
        }
        Path data = dir.resolve("one.jsonl");
        Files.writeString(data, "{\"id\": \"1\", \"text\": \"hello\", \"label\": \"ham\"}\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Headwater.commandLine().setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
                .execute("produce", data.toString(), "--task", TASK, "-c", file.toString());
        assertThat(rc).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("headwater: Kafka at ")
                .contains("SASL_SSL listener with SASL mechanism SCRAM-SHA-512");
    }

    @Test
    void shouldNameTheTruststoreTheProtocolOrTheFileWhenTheConnectionCannotBeMade() throws Exception {
        // given: a truststore with another certificate than the broker's
        TestTls other = TestTls.generate(Files.createTempDirectory(dir, "other"), "other");
        Map<String, Object> foreign = new HashMap<>(kafka.clientProps("registry", passwords.get(Service.REGISTRY)));
        foreign.put("ssl.truststore.location", other.truststore().toString());
        foreign.put("ssl.truststore.password", other.password());
        assertThatThrownBy(() -> KafkaAccess.check(foreign)).isInstanceOf(FatalException.class)
                .hasMessageContaining("SASL_SSL listener")
                .hasMessageContaining("the TLS handshake failed: the truststore (ssl.truststore.location)");
        // and: a client that speaks PLAINTEXT to the SASL_SSL listener
        Map<String, Object> plaintext = new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                "default.api.timeout.ms", 3000, "request.timeout.ms", 1000));
        assertThatThrownBy(() -> KafkaAccess.check(plaintext)).isInstanceOf(FatalException.class)
                .hasMessageContaining("did not answer within 3000 ms (default.api.timeout.ms)")
                .hasMessageContaining("speaks PLAINTEXT (security.protocol)");
        // and: a truststore file that is not there
        Map<String, Object> missing = new HashMap<>(foreign);
        missing.put("ssl.truststore.location", dir.resolve("nope.p12").toString());
        assertThatThrownBy(() -> KafkaAccess.check(missing)).isInstanceOf(FatalException.class)
                .hasMessageContaining("Cannot use Kafka at " + kafka.bootstrapServers() + " (SASL_SSL, SASL mechanism SCRAM-SHA-512)")
                .hasMessageContaining("nope.p12");
    }

    static Map<String, Object> toClient(Map<String, String> props) {
        return HeadwaterConfigs.clientProperties(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props));
    }

    static void await(java.util.function.BooleanSupplier condition, Duration timeout, Supplier<String> state)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out; " + state.get());
            }
            Thread.sleep(200);
        }
    }
}
