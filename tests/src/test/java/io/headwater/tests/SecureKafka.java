package io.headwater.tests;

import io.headwater.kafka.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.security.auth.SecurityProtocol;

/**
 * The in-process broker as a secured cluster has it: one client listener, SASL_SSL with
 * SCRAM-SHA-512 over TLS (a certificate made for this run, {@link TestTls}), and the KRaft
 * {@code StandardAuthorizer} on, so a principal can do only what its ACLs allow. The broker itself
 * is the only super user ({@code admin}); it talks to its controller over SASL PLAIN on loopback, so
 * no anonymous principal is trusted anywhere.
 *
 * <pre>{@code
 * try (SecureKafka kafka = SecureKafka.start(dir)) {
 *     kafka.addUser("trainer", "pw");
 *     kafka.allow(acls);
 *     Map<String, Object> props = kafka.clientProps("trainer", "pw");
 * }
 * }</pre>
 */
final class SecureKafka implements AutoCloseable {
    static final String MECHANISM = "SCRAM-SHA-512";
    static final String ADMIN = "admin";

    private final EmbeddedKafkaBroker broker;
    private final TestTls tls;
    private final String adminPassword;

    private SecureKafka(EmbeddedKafkaBroker broker, TestTls tls, String adminPassword) {
        this.broker = broker;
        this.tls = tls;
        this.adminPassword = adminPassword;
    }

    static SecureKafka start(Path dir) throws IOException, InterruptedException {
        TestTls tls = TestTls.generate(dir, "broker");
        String adminPassword = "admin-" + Long.toHexString(System.nanoTime());
        String plainJaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + ADMIN
                + "\" password=\"" + adminPassword + "\" user_" + ADMIN + "=\"" + adminPassword + "\";";
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder()
                .securityProtocol(SecurityProtocol.SASL_SSL)
                .scramCredential(MECHANISM, ADMIN, adminPassword)
                .property("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT")
                .property("sasl.enabled.mechanisms", MECHANISM)
                .property("sasl.mechanism.inter.broker.protocol", MECHANISM)
                .property("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", scramJaas(ADMIN, adminPassword))
                .property("sasl.mechanism.controller.protocol", "PLAIN")
                .property("listener.name.controller.sasl.enabled.mechanisms", "PLAIN")
                .property("listener.name.controller.plain.sasl.jaas.config", plainJaas)
                .property("ssl.keystore.location", tls.keystore().toString())
                .property("ssl.keystore.password", tls.password())
                .property("ssl.key.password", tls.password())
                .property("ssl.keystore.type", "PKCS12")
                .property("ssl.truststore.location", tls.truststore().toString())
                .property("ssl.truststore.password", tls.password())
                .property("ssl.truststore.type", "PKCS12")
                .property("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
                .property("super.users", "User:" + ADMIN)
                .start();
        return new SecureKafka(broker, tls, adminPassword);
    }

    static String scramJaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    String bootstrapServers() {
        return broker.bootstrapServers();
    }

    String adminPassword() {
        return adminPassword;
    }

    TestTls tls() {
        return tls;
    }

    /**
     * What a client of this cluster sets, nothing but standard Kafka client properties: bootstrap
     * servers, SASL_SSL, the SCRAM mechanism and login, and the truststore with the broker's certificate.
     */
    Map<String, Object> clientProps(String user, String password) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
        p.put(SaslConfigs.SASL_MECHANISM, MECHANISM);
        p.put(SaslConfigs.SASL_JAAS_CONFIG, scramJaas(user, password));
        p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, tls.truststore().toString());
        p.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, tls.password());
        p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        return p;
    }

    /** The client properties plus {@code extra} (Headwater's own keys), written as one properties file. */
    Path propertiesFile(Path dir, String user, String password, Map<String, String> extra) throws IOException {
        Properties p = new Properties();
        clientProps(user, password).forEach((k, v) -> p.setProperty(k, v.toString()));
        extra.forEach(p::setProperty);
        Path file = dir.resolve(user + ".properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            p.store(out, "Headwater test client " + user);
        }
        return file;
    }

    /** An admin client as the broker's super user. */
    Admin admin() {
        return Admin.create(clientProps(ADMIN, adminPassword));
    }

    /** Adds (or changes) a SCRAM user, as {@code kafka-configs.sh --alter --add-config SCRAM-SHA-512=[...]} does. */
    void addUser(String user, String password) throws ExecutionException, InterruptedException {
        try (Admin admin = admin()) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password))).all().get();
        }
    }

    /** Creates ACLs, as {@code kafka-acls.sh --add} does. */
    void allow(List<AclBinding> acls) throws ExecutionException, InterruptedException {
        try (Admin admin = admin()) {
            admin.createAcls(acls).all().get();
        }
    }

    @Override
    public void close() {
        broker.close();
    }
}
