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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
 * A real Kafka node (KRaft, combined broker and controller) running in this JVM, for the demo and
 * the integration tests: on its own a single-node cluster, or one node of a multi-node cluster
 * ({@link EmbeddedKafkaCluster} runs each node in a child JVM through {@link #main}). It is the
 * same broker code as a production cluster's, on loopback only. Its client listener speaks
 * PLAINTEXT unless the builder sets another protocol; a secured one (SASL_SSL with SCRAM, an
 * authorizer) is set up by the builder's protocol, SCRAM credential and broker properties, as on any
 * Kafka broker.
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

    static final String USAGE = "usage: EmbeddedKafkaBroker PORT CONTROLLER_PORT DATA_DIR [--node-id=N] "
            + "[--voters=ID@HOST:PORT,...] [--cluster-id=ID] [--parent-pid=PID] [key=value ...]";

    /**
     * Runs a node until the process is killed, for tests that must kill, stall or restart a broker
     * itself: {@code EmbeddedKafkaBroker PORT CONTROLLER_PORT DATA_DIR [--node-id=N]
     * [--voters=ID@HOST:PORT,...] [--cluster-id=ID] [--parent-pid=PID] [key=value ...]}. The nodes of
     * one cluster share the voters and the cluster id; {@code --parent-pid} makes the node exit when
     * that process is gone, so a crashed test leaves no broker behind. Started again with the same
     * arguments, it comes back with its topics, offsets and transactions. Prints
     * {@code READY host:port} on standard output once it serves.
     */
    public static void main(String[] args) throws InterruptedException {
        Builder b;
        try {
            b = fromArguments(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        EmbeddedKafkaBroker broker;
        try {
            broker = b.start();
        } catch (RuntimeException e) {
            // Kafka's own threads would keep a half-started node alive and never ready: exit, so the
            // parent sees the failure at once.
            e.printStackTrace();
            Runtime.getRuntime().halt(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close));
        System.out.println("READY " + broker.bootstrapServers());
        System.out.flush();
        Thread.currentThread().join();
    }

    /** The builder {@link #main} starts; a bad argument is an {@link IllegalArgumentException} naming it. */
    static Builder fromArguments(String[] args) {
        if (args.length < 3) {
            throw new IllegalArgumentException("expected PORT CONTROLLER_PORT DATA_DIR, found " + args.length
                    + " argument(s)");
        }
        Builder b = builder().port(number(args[0], "PORT")).controllerPort(number(args[1], "CONTROLLER_PORT"))
                .logDir(Path.of(args[2])).deleteOnClose(false);
        for (int i = 3; i < args.length; i++) {
            String a = args[i];
            int eq = a.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("not key=value: " + a);
            }
            String value = a.substring(eq + 1);
            switch (a.substring(0, eq)) {
                case "--node-id" -> b.nodeId(number(value, "--node-id"));
                case "--voters" -> b.quorumVoters(value);
                case "--cluster-id" -> b.clusterId(value);
                case "--parent-pid" -> b.exitWithParent(number(value, "--parent-pid"));
                default -> {
                    if (a.startsWith("--")) {
                        throw new IllegalArgumentException("unknown option " + a);
                    }
                    b.property(a.substring(0, eq), value);
                }
            }
        }
        return b;
    }

    private static int number(String s, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a number, found '" + s + "'");
        }
    }

    /**
     * Replication of the broker's internal topics (consumer offsets, transaction state, share
     * groups) on a cluster of {@code nodes} brokers: three replicas and two in sync on three or more
     * brokers, as {@link TopicSettings} chooses for Headwater's topics; fewer on a smaller cluster.
     * The brokers' own defaults for other topics ({@code default.replication.factor},
     * {@code min.insync.replicas}) stay Kafka's (1), so a test sees what Headwater sets itself.
     */
    public static Map<String, String> replicationDefaults(int nodes) {
        String rf = Integer.toString(Math.min(nodes, TopicSettings.PRODUCTION_REPLICATION_FACTOR));
        String minIsr = Integer.toString(nodes >= TopicSettings.PRODUCTION_BROKERS
                ? TopicSettings.PRODUCTION_MIN_INSYNC_REPLICAS : 1);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("offsets.topic.replication.factor", rf);
        m.put("transaction.state.log.replication.factor", rf);
        m.put("transaction.state.log.min.isr", minIsr);
        m.put("share.coordinator.state.topic.replication.factor", rf);
        m.put("share.coordinator.state.topic.min.isr", minIsr);
        return m;
    }

    private static EmbeddedKafkaBroker start(Builder b) {
        long t0 = System.nanoTime();
        Path logDir = b.logDir;
        int port = b.port == 0 ? freePort() : b.port;
        int controllerPort = b.controllerPort == 0 ? freePort() : b.controllerPort;
        Properties p = serverProperties(b, port, controllerPort);
        try {
            Files.createDirectories(logDir);
            Path config = logDir.resolve("server.properties");
            try (OutputStream out = Files.newOutputStream(config)) {
                p.store(out, "Headwater embedded broker");
            }
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                // A directory formatted before keeps its cluster id, topics, offsets and credentials.
                ByteArrayOutputStream formatOut = new ByteArrayOutputStream();
                List<String> format = new ArrayList<>(List.of("format", "-t",
                        b.clusterId.orElseGet(() -> Uuid.randomUuid().toString()), "-c", config.toString(),
                        "--ignore-formatted"));
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
            b.parentPid.ifPresent(EmbeddedKafkaBroker::exitWhenGone);
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(p), Time.SYSTEM);
            server.startup();
            LOG.info("Embedded Kafka node {} up on {}://127.0.0.1:{} in {} ms (data in {})", b.nodeId,
                    b.protocol.name, port,
                    (System.nanoTime() - t0) / 1_000_000, logDir);
            return new EmbeddedKafkaBroker(server, logDir, port, b.deleteOnClose);
        } catch (IOException e) {
            throw new FatalException("Failed to start the embedded broker in " + logDir, e);
        }
    }

    /** The node's server.properties: the embedded defaults, then the builder's own settings. */
    static Properties serverProperties(Builder b, int port, int controllerPort) {
        String voters = b.quorumVoters.orElse(b.nodeId + "@127.0.0.1:" + controllerPort);
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(b.nodeId));
        p.put("controller.quorum.voters", voters);
        // The client listener is named after its protocol (PLAINTEXT, SASL_SSL, ...) and also carries
        // the brokers' traffic (replication, transaction markers); the controller's stays PLAINTEXT on
        // loopback unless the caller's properties say otherwise.
        String listener = b.protocol.name;
        p.put("listeners", listener + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", listener + "://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", listener);
        p.put("listener.security.protocol.map", listener + ":" + listener + ",CONTROLLER:PLAINTEXT");
        p.put("log.dirs", b.logDir.toAbsolutePath().toString());
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        p.putAll(replicationDefaults(voters.split(",").length));
        p.put("offsets.topic.num.partitions", "3");
        p.put("transaction.state.log.num.partitions", "3");
        p.put("group.initial.rebalance.delay.ms", "0");
        // The cleaner's dedupe buffer defaults to 128 MB of heap; compacted topics here are small.
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 * 1024 * 1024));
        p.put("message.max.bytes", Integer.toString(Topics.MODEL_MAX_BYTES + 1024));
        p.putAll(b.properties);
        return p;
    }

    /** Halts this JVM once the given process has gone: a node of a test's cluster does not outlive the test. */
    private static void exitWhenGone(int pid) {
        Thread t = new Thread(() -> {
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
            LOG.warn("Parent process {} is gone; stopping", pid);
            Runtime.getRuntime().halt(3);
        }, "headwater-broker-parent-watch");
        t.setDaemon(true);
        t.start();
    }

    /** Options of an {@link EmbeddedKafkaBroker}; every one has a default. */
    public static final class Builder {
        private int port;
        private int controllerPort;
        private Path logDir;
        private boolean deleteOnClose = true;
        private int nodeId = 1;
        private Optional<String> quorumVoters = Optional.empty();
        private Optional<String> clusterId = Optional.empty();
        private Optional<Integer> parentPid = Optional.empty();
        private SecurityProtocol protocol = SecurityProtocol.PLAINTEXT;
        private final List<String> scramCredentials = new ArrayList<>();
        private final Properties properties = new Properties();

        private Builder() {
        }

        /** This node's id (default 1); unique within a cluster. */
        public Builder nodeId(int id) {
            if (id < 0) {
                throw new IllegalArgumentException("node id must be >= 0, found " + id);
            }
            this.nodeId = id;
            return this;
        }

        /**
         * The controller quorum, {@code id@host:controllerPort,...}, the same on every node of a
         * cluster; default this node alone. Three or more voters make the internal topics and the
         * broker defaults replicated ({@link #replicationDefaults(int)}).
         */
        public Builder quorumVoters(String voters) {
            this.quorumVoters = Optional.of(Objects.requireNonNull(voters, "voters cannot be null"));
            return this;
        }

        /** The cluster id every node's storage is formatted with; default a random one (a single node). */
        public Builder clusterId(String id) {
            this.clusterId = Optional.of(Objects.requireNonNull(id, "id cannot be null"));
            return this;
        }

        /** Halt this JVM when the process with this id is gone (for a node run as a child JVM). */
        public Builder exitWithParent(int pid) {
            this.parentPid = Optional.of(pid);
            return this;
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
            this.logDir = Objects.requireNonNull(dir, "dir cannot be null");
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
            this.protocol = Objects.requireNonNull(protocol, "protocol cannot be null");
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
