package io.headwater.kafka;

import io.headwater.core.FatalException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real multi-node Kafka cluster on loopback for tests: every node an {@link EmbeddedKafkaBroker}
 * (KRaft, broker and controller in one) in its own child JVM, with its own ports and data
 * directory, all of them voters of one controller quorum. A node can be killed hard (SIGKILL, as a
 * crashed machine would go) and restarted with its data. With three or more nodes, the internal
 * topics and the broker defaults are replicated three times with two in sync
 * ({@link EmbeddedKafkaBroker#replicationDefaults(int)}).
 *
 * <pre>{@code
 * try (EmbeddedKafkaCluster cluster = EmbeddedKafkaCluster.start(3)) {
 *     String bootstrap = cluster.bootstrapServers();
 *     cluster.kill(2);
 *     cluster.restart(2);
 * }
 * }</pre>
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaCluster.class);

    private final Builder options;
    private final Path root;
    private final String clusterId;
    private final String voters;
    private final Map<Integer, Member> nodes = new LinkedHashMap<>();

    /** One node: fixed ports and data directory across restarts, and its current process. */
    private static final class Member {
        final int id;
        final int port;
        final int controllerPort;
        final Path dataDir;
        final Path log;
        volatile Process process;

        Member(int id, int port, int controllerPort, Path dataDir, Path log) {
            this.id = id;
            this.port = port;
            this.controllerPort = controllerPort;
            this.dataDir = dataDir;
            this.log = log;
        }
    }

    private EmbeddedKafkaCluster(Builder options, Path root) {
        this.options = options;
        this.root = root;
        this.clusterId = Uuid.randomUuid().toString();
        Set<Integer> taken = new java.util.HashSet<>();
        for (int id = 1; id <= options.nodes; id++) {
            nodes.put(id, new Member(id, nodePort(taken), nodePort(taken), root.resolve("node-" + id),
                    root.resolve("node-" + id + ".log")));
        }
        this.voters = nodes.values().stream().map(n -> n.id + "@127.0.0.1:" + n.controllerPort)
                .collect(Collectors.joining(","));
    }

    /**
     * A free loopback port below the kernel's ephemeral range: a node keeps its ports across a
     * restart, and a port in the ephemeral range could meanwhile become the local end of any
     * outgoing connection on the machine (and did, in tests).
     */
    static int nodePort(Set<Integer> taken) {
        int below = ephemeralRangeStart();
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 10_000 + random.nextInt(Math.max(1, below - 10_000));
            if (taken.contains(port)) {
                continue;
            }
            try (java.net.ServerSocket s = new java.net.ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
                taken.add(port);
                return port;
            } catch (IOException e) {
                // in use: try another
            }
        }
        throw new FatalException("No free loopback port between 10000 and " + below + " after 200 tries");
    }

    /** The first port of the kernel's ephemeral range (Linux), 32768 where it cannot be read. */
    static int ephemeralRangeStart() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int start = Integer.parseInt(range.split("\\s+")[0]);
            return start > 11_000 ? start : 32_768;
        } catch (IOException | NumberFormatException e) {
            return 32_768;
        }
    }

    /** Starts {@code nodes} nodes with the default options. */
    public static EmbeddedKafkaCluster start(int nodes) {
        return builder().nodes(nodes).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every node's client listener, comma-separated. */
    public String bootstrapServers() {
        return nodes.values().stream().map(n -> "127.0.0.1:" + n.port).collect(Collectors.joining(","));
    }

    /** The node ids, 1 to n. */
    public List<Integer> nodeIds() {
        return List.copyOf(nodes.keySet());
    }

    /** The client listener of one node. */
    public String bootstrapServers(int nodeId) {
        return "127.0.0.1:" + node(nodeId).port;
    }

    /** The file a node's output goes to, for a failing test to point at. */
    public Path log(int nodeId) {
        return node(nodeId).log;
    }

    /** Whether the node's process is running. */
    public boolean running(int nodeId) {
        Process p = node(nodeId).process;
        return p != null && p.isAlive();
    }

    /** Kills the node's JVM with SIGKILL: no shutdown, no flush, as a crashed machine would go. */
    public void kill(int nodeId) {
        Member n = node(nodeId);
        Process p = n.process;
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("node " + nodeId + " is not running");
        }
        p.destroyForcibly();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new FatalException("node " + nodeId + " (pid " + p.pid() + ") did not die of SIGKILL in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while killing node " + nodeId, e);
        }
        LOG.info("Killed Kafka node {} (pid {})", nodeId, p.pid());
    }

    /** Starts a killed node again on its ports and data; returns once the cluster lists it as a live broker. */
    public void restart(int nodeId) {
        Member n = node(nodeId);
        if (running(nodeId)) {
            throw new IllegalStateException("node " + nodeId + " is running");
        }
        long deadline = System.nanoTime() + options.readyTimeout.toNanos();
        awaitReady(n, launch(n), deadline);
        awaitBrokers(bootstrapServers(), Set.of(nodeId), deadline, options.readyTimeout, "logs in " + root);
    }

    private EmbeddedKafkaCluster startAll() {
        long t0 = System.nanoTime();
        long deadline = t0 + options.readyTimeout.toNanos();
        // Every voter must be up for the quorum to elect a leader, so all nodes start at once.
        Map<Member, CompletableFuture<String>> ready = new LinkedHashMap<>();
        for (Member n : nodes.values()) {
            ready.put(n, launch(n));
        }
        try {
            ready.forEach((n, f) -> awaitReady(n, f, deadline));
            awaitBrokers(bootstrapServers(), nodes.keySet(), deadline, options.readyTimeout, "logs in " + root);
        } catch (RuntimeException e) {
            // The logs stay, for the message to point at.
            stopAll();
            throw e;
        }
        LOG.info("Kafka cluster of {} nodes up in {} ms: {}", nodes.size(), (System.nanoTime() - t0) / 1_000_000,
                bootstrapServers());
        return this;
    }

    private CompletableFuture<String> launch(Member n) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // A small heap, one GC thread and the client compiler only: a test node starts fast and leaves
        // the cores to the code under test.
        command.addAll(List.of("-Xmx" + options.heapMb + "m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.addAll(options.jvmOptions);
        command.addAll(List.of("-cp", options.classPath,
                EmbeddedKafkaBroker.class.getName(), Integer.toString(n.port), Integer.toString(n.controllerPort),
                n.dataDir.toString(), "--node-id=" + n.id, "--voters=" + voters, "--cluster-id=" + clusterId,
                "--parent-pid=" + ProcessHandle.current().pid()));
        options.properties.forEach((k, v) -> command.add(k + "=" + v));
        CompletableFuture<String> ready = new CompletableFuture<>();
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(n.log.toFile()))
                    .start();
            n.process = p;
            Thread reader = new Thread(() -> follow(p, n.log, ready), "kafka-node-" + n.id + "-stdout");
            reader.setDaemon(true);
            reader.start();
            p.onExit().thenRun(() -> ready.completeExceptionally(new FatalException("Kafka node " + n.id
                    + " exited with " + p.exitValue() + " before it was ready; its log: " + n.log)));
        } catch (IOException e) {
            throw new FatalException("Failed to start Kafka node " + n.id + ": " + e.getMessage(), e);
        }
        return ready;
    }

    /** Copies the node's standard output to its log and completes {@code ready} at its READY line. */
    private static void follow(Process p, Path log, CompletableFuture<String> ready) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             Writer w = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                     StandardOpenOption.APPEND)) {
            String line;
            while ((line = r.readLine()) != null) {
                w.write(line + "\n");
                w.flush();
                if (line.startsWith("READY ")) {
                    ready.complete(line.substring("READY ".length()));
                }
            }
        } catch (IOException e) {
            ready.completeExceptionally(e);
        }
    }

    private void awaitReady(Member n, CompletableFuture<String> ready, long deadline) {
        try {
            ready.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof FatalException f ? f
                    : new FatalException("Kafka node " + n.id + " failed: " + e.getCause() + "; its log: " + n.log, e);
        } catch (TimeoutException e) {
            throw new FatalException("Kafka node " + n.id + " not ready within " + options.readyTimeout + "; its log: "
                    + n.log, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while starting Kafka node " + n.id, e);
        }
    }

    /**
     * Waits until every one of {@code ids} is a live (unfenced) broker in the metadata of the cluster
     * at {@code bootstrap}, until {@code deadline} ({@link System#nanoTime()}, the end of {@code timeout}).
     */
    static void awaitBrokers(String bootstrap, Set<Integer> ids, long deadline, Duration timeout, String where) {
        Map<String, Object> props = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        Set<Integer> live = Set.of();
        try (Admin admin = Admin.create(props)) {
            while (System.nanoTime() < deadline) {
                try {
                    live = admin.describeCluster(new DescribeClusterOptions().timeoutMs(5_000)).nodes()
                            .get(10, TimeUnit.SECONDS).stream().map(org.apache.kafka.common.Node::id).collect(Collectors.toSet());
                    if (live.containsAll(ids)) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    LOG.debug("Cluster not answering yet: {}", e.toString());
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while waiting for brokers " + ids, e);
        }
        throw new FatalException("Brokers " + ids + " of " + bootstrap + " not live within "
                + timeout + " (live: " + live + "); " + where);
    }

    private Member node(int id) {
        Member n = nodes.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no node " + id + " in a cluster of " + nodes.keySet());
        }
        return n;
    }

    /** Stops every node (SIGTERM, then SIGKILL after 30 s) and deletes the data unless kept. */
    @Override
    public void close() {
        stopAll();
        if (!options.keepData) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                LOG.warn("Could not delete {}: {}", root, e.toString());
            }
        }
    }

    private void stopAll() {
        for (Member n : nodes.values()) {
            Process p = n.process;
            if (p != null && p.isAlive()) {
                p.destroy();
            }
        }
        for (Member n : nodes.values()) {
            Process p = n.process;
            try {
                if (p != null && !p.waitFor(30, TimeUnit.SECONDS)) {
                    LOG.warn("Kafka node {} did not stop within 30 s; killing it", n.id);
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Options of an {@link EmbeddedKafkaCluster}; every one has a default. */
    public static final class Builder {
        private int nodes = 3;
        private int heapMb = 512;
        private String classPath = System.getProperty("java.class.path");
        private Duration readyTimeout = Duration.ofMinutes(2);
        private boolean keepData;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final List<String> jvmOptions = new ArrayList<>();

        private Builder() {
        }

        /** An option for every node's JVM, e.g. {@code -Dlogback.configurationFile=...}. */
        public Builder jvmOption(String option) {
            jvmOptions.add(Objects.requireNonNull(option, "option cannot be null"));
            return this;
        }

        /** Number of nodes, each a broker and a controller voter (default 3). */
        public Builder nodes(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("a cluster needs at least one node, found " + n);
            }
            this.nodes = n;
            return this;
        }

        /** Maximum heap of each node's JVM in MB (default 512). */
        public Builder heapMb(int mb) {
            this.heapMb = mb;
            return this;
        }

        /** Class path of the nodes' JVMs; default this JVM's. */
        public Builder classPath(String classPath) {
            this.classPath = Objects.requireNonNull(classPath, "classPath cannot be null");
            return this;
        }

        /** How long starting the cluster, or restarting a node, may take (default 2 minutes). */
        public Builder readyTimeout(Duration timeout) {
            this.readyTimeout = Objects.requireNonNull(timeout, "timeout cannot be null");
            return this;
        }

        /** Keep the data directories and logs after close (default false: deleted). */
        public Builder keepData(boolean keep) {
            this.keepData = keep;
            return this;
        }

        /** A broker setting for every node, on top of the embedded defaults. */
        public Builder property(String key, String value) {
            properties.put(Objects.requireNonNull(key, "key cannot be null"), Objects.requireNonNull(value,
                    "value cannot be null"));
            return this;
        }

        public EmbeddedKafkaCluster start() {
            Path root;
            try {
                root = Files.createTempDirectory("headwater-kafka-cluster-");
            } catch (IOException e) {
                throw new FatalException("Failed to create a directory for the Kafka cluster", e);
            }
            return new EmbeddedKafkaCluster(this, root).startAll();
        }
    }
}
