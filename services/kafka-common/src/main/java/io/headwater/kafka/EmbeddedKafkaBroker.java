package io.headwater.kafka;

import io.headwater.core.FatalException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) running in this JVM, for
 * the demo and the integration tests. It is the same broker code as a cluster's, on loopback only.
 * Its client listener speaks PLAINTEXT unless the builder sets another protocol; a secured one
 * (SASL_SSL with SCRAM, an authorizer) is set up by the builder's protocol, SCRAM credential and
 * broker properties, as on any Kafka broker.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
 *     String bootstrap = broker.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private final KafkaRaftServer server;
    private final Path logDir;
    private final int port;
    private final boolean deleteOnClose;

    private EmbeddedKafkaBroker(KafkaRaftServer server, Path logDir, int port, boolean deleteOnClose) {
        this.server = server;
        this.logDir = logDir;
        this.port = port;
        this.deleteOnClose = deleteOnClose;
    }

    /** Starts a broker on free loopback ports with its data in a temporary directory, deleted on close. */
    public static EmbeddedKafkaBroker start() {
        return builder().start();
    }

    /** Starts a broker on free loopback ports with its data in {@code logDir}. */
    public static EmbeddedKafkaBroker start(Path logDir, boolean deleteOnClose) {
        return builder().logDir(logDir).deleteOnClose(deleteOnClose).start();
    }

    /** Options: fixed ports, a data directory kept across restarts, extra broker settings. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs a broker until the process is killed, for tests that must kill, stall or restart the broker
     * itself: {@code EmbeddedKafkaBroker PORT CONTROLLER_PORT DATA_DIR [key=value ...]}. Started again
     * with the same arguments, it comes back with its topics, offsets and transactions. Prints
     * {@code READY host:port} on standard output once it serves.
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            System.err.println("usage: EmbeddedKafkaBroker PORT CONTROLLER_PORT DATA_DIR [key=value ...]");
            System.exit(2);
        }
        Builder b = builder().port(Integer.parseInt(args[0])).controllerPort(Integer.parseInt(args[1]))
                .logDir(Path.of(args[2])).deleteOnClose(false);
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 1) {
                System.err.println("not key=value: " + args[i]);
                System.exit(2);
            }
            b.property(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        EmbeddedKafkaBroker broker = b.start();
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close));
        System.out.println("READY " + broker.bootstrapServers());
        System.out.flush();
        Thread.currentThread().join();
    }

    private static EmbeddedKafkaBroker start(Builder b) {
        long t0 = System.nanoTime();
        Path logDir = b.logDir;
        int port = b.port == 0 ? freePort() : b.port;
        int controllerPort = b.controllerPort == 0 ? freePort() : b.controllerPort;
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        // The client listener is named after its protocol (PLAINTEXT, SASL_SSL, ...) and also carries
        // the broker's traffic to itself (transaction markers); the controller's stays PLAINTEXT on
        // loopback unless the caller's properties say otherwise.
        String listener = b.protocol.name;
        p.put("listeners", listener + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", listener + "://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", listener);
        p.put("listener.security.protocol.map", listener + ":" + listener + ",CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toAbsolutePath().toString());
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "3");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "3");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // The cleaner's dedupe buffer defaults to 128 MB of heap; compacted topics here are small.
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 * 1024 * 1024));
        p.put("message.max.bytes", Integer.toString(Topics.MODEL_MAX_BYTES + 1024));
        p.putAll(b.properties);
        try {
            Files.createDirectories(logDir);
            Path config = logDir.resolve("server.properties");
            try (OutputStream out = Files.newOutputStream(config)) {
                p.store(out, "Headwater embedded broker");
            }
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                // A directory formatted before keeps its cluster id, topics, offsets and credentials.
                ByteArrayOutputStream formatOut = new ByteArrayOutputStream();
                List<String> format = new ArrayList<>(List.of("format", "-t", Uuid.randomUuid().toString(), "-c",
                        config.toString(), "--ignore-formatted"));
                for (String credential : b.scramCredentials) {
                    format.add("--add-scram");
                    format.add(credential);
                }
                int rc = StorageTool.execute(format.toArray(String[]::new),
                        new PrintStream(formatOut, true, StandardCharsets.UTF_8));
                if (rc != 0) {
                    throw new FatalException("Failed to format embedded broker storage in " + logDir + ": "
                            + formatOut.toString(StandardCharsets.UTF_8));
                }
            }
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(p), Time.SYSTEM);
            server.startup();
            LOG.info("Embedded Kafka broker up on {}://127.0.0.1:{} in {} ms (data in {})", listener, port,
                    (System.nanoTime() - t0) / 1_000_000, logDir);
            return new EmbeddedKafkaBroker(server, logDir, port, b.deleteOnClose);
        } catch (IOException e) {
            throw new FatalException("Failed to start the embedded broker in " + logDir, e);
        }
    }

    /** Options of an {@link EmbeddedKafkaBroker}; every one has a default. */
    public static final class Builder {
        private int port;
        private int controllerPort;
        private Path logDir;
        private boolean deleteOnClose = true;
        private SecurityProtocol protocol = SecurityProtocol.PLAINTEXT;
        private final List<String> scramCredentials = new ArrayList<>();
        private final Properties properties = new Properties();

        private Builder() {
        }

        /** The client listener's loopback port; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The KRaft controller listener's loopback port; 0 (the default) picks a free one. */
        public Builder controllerPort(int port) {
            this.controllerPort = port;
            return this;
        }

        /** Where the broker keeps its data; default a new temporary directory. */
        public Builder logDir(Path dir) {
            this.logDir = java.util.Objects.requireNonNull(dir, "dir cannot be null");
            return this;
        }

        /** Whether close() deletes the data directory (default true). */
        public Builder deleteOnClose(boolean delete) {
            this.deleteOnClose = delete;
            return this;
        }

        /**
         * The security protocol of the client listener, which is also the broker's listener to itself
         * (default PLAINTEXT). Its TLS and SASL settings ({@code ssl.keystore.location},
         * {@code sasl.enabled.mechanisms}, {@code listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config}
         * with the broker's own credentials, ...) come as {@link #property} settings.
         */
        public Builder securityProtocol(SecurityProtocol protocol) {
            this.protocol = java.util.Objects.requireNonNull(protocol, "protocol cannot be null");
            return this;
        }

        /**
         * A SCRAM credential written into the cluster metadata when the data directory is first
         * formatted, as {@code kafka-storage.sh format --add-scram} does: in KRaft the broker's own
         * SCRAM user must exist before it starts, since there is no ZooKeeper to add it to first.
         * More users can be added later through {@code Admin.alterUserScramCredentials}.
         *
         * @param mechanism SCRAM-SHA-256 or SCRAM-SHA-512; a bad credential stops {@link #start()}
         *                  with the storage tool's message
         */
        public Builder scramCredential(String mechanism, String user, String password) {
            scramCredentials.add(mechanism + "=[name=" + user + ",password=" + password + "]");
            return this;
        }

        /** A broker setting on top of the embedded defaults (e.g. {@code message.max.bytes}). */
        public Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        public EmbeddedKafkaBroker start() {
            if (logDir == null) {
                try {
                    logDir = Files.createTempDirectory("headwater-kafka-");
                } catch (IOException e) {
                    throw new FatalException("Failed to create a temporary directory for the embedded broker", e);
                }
            }
            return EmbeddedKafkaBroker.start(this);
        }
    }

    /** A loopback port that was free a moment ago. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.warn("Embedded broker did not shut down cleanly: {}", e.toString());
        }
        if (deleteOnClose) {
            try (Stream<Path> files = Files.walk(logDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                LOG.warn("Could not delete {}: {}", logDir, e.toString());
            }
        }
    }
}
