package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.headwater.core.ConfigException;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.MetricsServer;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.ServingConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The HTTP servers' bind address and TLS, without a broker: what a server bound to loopback can be
 * reached from, HTTPS with a keystore made for the run, and the configuration errors of both.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpEndpointTest {
    Path dir;
    TestTls tls;
    final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @BeforeAll
    void makeAKeystore() throws Exception {
        dir = Files.createTempDirectory("headwater-http-");
        tls = TestTls.generate(dir, "http");
    }

    /** An IPv4 address of this machine that is not loopback, if it has one. */
    static Optional<InetAddress> otherAddress() throws IOException {
        for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!n.isUp() || n.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(n.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }

    static boolean connects(InetAddress address, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 2000);
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }

    @Test
    void shouldBeReachableOnlyFromLoopbackWhenBoundToLoopback() throws Exception {
        Optional<InetAddress> other = otherAddress();
        assumeThat(other).as("this machine has no address but loopback to connect from").isPresent();
        // given: one server on loopback, one on every interface
        try (MetricsServer local = MetricsServer.start(new HttpEndpoint("127.0.0.1", 0, Optional.empty()), meters, 1);
             MetricsServer any = MetricsServer.start(new HttpEndpoint("0.0.0.0", 0, Optional.empty()), meters, 1)) {
            // then: the loopback one answers on 127.0.0.1 only; the other on the machine's address too
            assertThat(connects(InetAddress.getLoopbackAddress(), local.port())).isTrue();
            assertThat(connects(other.get(), local.port())).as("loopback server from " + other.get()).isFalse();
            assertThat(connects(other.get(), any.port())).as("wildcard server from " + other.get()).isTrue();
        }
    }

    @Test
    void shouldServeHttpsWithTheKeystoreAndRefuseClientsThatDoNotTrustIt() throws Exception {
        // given: serving's TLS keys pointing at the generated keystore
        ServingConfig config = new ServingConfig(Map.of(ServingConfig.TLS_KEYSTORE, tls.keystore().toString(),
                ServingConfig.TLS_KEYSTORE_PASSWORD, tls.password(), ServingConfig.BIND_ADDRESS, "127.0.0.1",
                ServingConfig.PORT, "0"));
        assertThat(config.endpoint().scheme()).isEqualTo("https");
        try (MetricsServer server = MetricsServer.start(config.endpoint(), meters, 1)) {
            URI health = URI.create("https://localhost:" + server.port() + "/health/live");
            // A server no stage has registered with yet is starting: 503 on the health pages.
            // when: a client that trusts the certificate asks
            HttpResponse<String> ok = HttpClient.newBuilder().sslContext(tls.clientContext()).build()
                    .send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
            // then: it answers over TLS
            assertThat(ok.statusCode()).isEqualTo(503);
            assertThat(ok.body()).isEqualTo("DOWN\nstarting\n");
            assertThat(ok.sslSession()).isPresent();
            // and a client with only the JDK's default trust cannot complete the handshake
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(health).build(),
                    HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);
            // and plain HTTP to the TLS port gets no answer
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + server.port() + "/health/live")).build(),
                    HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
        }
    }

    @Test
    void shouldStopStartUpNamingTheKeyWhenTheKeystoreCannotBeUsed() throws Exception {
        // a wrong password
        assertThatThrownBy(() -> new RegistryConfig(Map.of(RegistryConfig.API_TLS_KEYSTORE, tls.keystore().toString(),
                RegistryConfig.API_TLS_KEYSTORE_PASSWORD, "wrong")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Invalid value " + tls.keystore() + " for configuration registry.api.tls.keystore.location")
                .hasMessageContaining("cannot read it as a PKCS#12 or JKS store");
        // a file that is not there
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.TLS_KEYSTORE, dir.resolve("nope.p12").toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("for configuration serving.tls.keystore.location");
        // a store with a certificate but no key (a truststore given as keystore)
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.TLS_KEYSTORE, tls.truststore().toString(),
                ServingConfig.TLS_KEYSTORE_PASSWORD, tls.password())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("the keystore holds no private key");
        // a JKS keystore whose key has another password than the store
        Path jks = dir.resolve("other-key-password.jks");
        TestTls.keytool("-genkeypair", "-alias", "k", "-keyalg", "EC", "-dname", "CN=localhost", "-validity", "1",
                "-keystore", jks.toString(), "-storetype", "JKS", "-storepass", "store-pw", "-keypass", "key-pw");
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.TLS_KEYSTORE, jks.toString(),
                ServingConfig.TLS_KEYSTORE_PASSWORD, "store-pw")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot use its key with serving.tls.keystore.password");
        // a registry truststore that cannot be read
        assertThatThrownBy(() -> new RegistryConfig(Map.of(RegistryConfig.API_TLS_KEYSTORE, tls.keystore().toString(),
                RegistryConfig.API_TLS_KEYSTORE_PASSWORD, tls.password(),
                RegistryConfig.API_TLS_TRUSTSTORE, dir.resolve("none.p12").toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("for configuration registry.api.tls.truststore.location");
    }

    @Test
    void shouldStopStartUpNamingKeyAndValueOfABadBindAddress() {
        assertThatThrownBy(() -> HeadwaterConfigs.parse(HeadwaterConfigs.common(),
                Map.of(HeadwaterConfigs.METRICS_BIND_ADDRESS, "no-such-host.invalid")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Invalid value no-such-host.invalid for configuration metrics.bind.address")
                .hasMessageContaining("not an IP address or a host name of this machine");
        assertThatThrownBy(() -> new ServingConfig(Map.of(ServingConfig.BIND_ADDRESS, "")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("serving.bind.address");
        assertThat(new RegistryConfig(Map.of()).apiEndpoint().bindAddress()).isEqualTo("0.0.0.0");
    }
}
