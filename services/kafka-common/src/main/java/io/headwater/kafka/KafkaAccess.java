package io.headwater.kafka;

import io.headwater.core.FatalException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * The first thing a service does with Kafka: one request that proves the cluster answers and
 * accepts this client's credentials. A wrong password, a truststore without the broker's
 * certificate or a listener that speaks another protocol stops start-up at once, with a message
 * that names the bootstrap address, the security protocol and the SASL mechanism, instead of
 * clients that retry in the background while the service looks up.
 *
 * <pre>{@code
 * KafkaAccess.check(config.clientProperties());   // throws FatalException saying what to fix
 * }</pre>
 */
public final class KafkaAccess {
    private KafkaAccess() {
    }

    /** Asks the cluster for its id with these client settings; a {@link FatalException} says why it failed. */
    public static void check(Map<String, Object> clientProps) {
        open(clientProps).close();
    }

    /**
     * As {@link #check}, and returns the admin client that passed it, for the caller to use and close
     * (one client instead of several, which a service restart waits for).
     */
    public static Admin open(Map<String, Object> clientProps) {
        Objects.requireNonNull(clientProps, "clientProps cannot be null");
        Admin admin;
        try {
            admin = Admin.create(clientProps);
        } catch (KafkaException e) {
            throw unusable(clientProps, e);
        }
        try {
            admin.describeCluster().clusterId().get();
            return admin;
        } catch (ExecutionException e) {
            admin.close();
            if (e.getCause() instanceof AuthenticationException a) {
                throw refused(clientProps, a);
            }
            if (e.getCause() instanceof TimeoutException t) {
                throw new FatalException(where(clientProps) + " did not answer within "
                        + clientProps.getOrDefault(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60000) + " ms ("
                        + AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG + "): check the address, and that the listener "
                        + "there speaks " + protocol(clientProps) + " (" + CommonClientConfigs.SECURITY_PROTOCOL_CONFIG + ")", t);
            }
            throw unusable(clientProps, e.getCause());
        } catch (InterruptedException e) {
            admin.close();
            Thread.currentThread().interrupt();
            throw new FatalException("Interrupted while connecting to " + where(clientProps), e);
        }
    }

    private static FatalException refused(Map<String, Object> clientProps, AuthenticationException e) {
        String hint = e instanceof SslAuthenticationException
                ? "the TLS handshake failed: the truststore (ssl.truststore.location) must hold the certificate, or its "
                        + "issuer, that the broker presents, and that certificate must name the host in bootstrap.servers"
                : "check the user name and password in " + SaslConfigs.SASL_JAAS_CONFIG + ", and that the user has "
                        + "credentials for that mechanism on the cluster";
        return new FatalException(where(clientProps) + " refused this client on its " + protocol(clientProps)
                + " listener with SASL mechanism " + mechanism(clientProps) + ": " + e.getMessage() + "; " + hint, e);
    }

    private static FatalException unusable(Map<String, Object> clientProps, Throwable e) {
        StringBuilder causes = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !causes.toString().contains(t.getMessage())) {
                causes.append(causes.length() == 0 ? "" : ": ").append(t.getMessage());
            }
        }
        return new FatalException("Cannot use " + where(clientProps) + " (" + protocol(clientProps)
                + ", SASL mechanism " + mechanism(clientProps) + "): " + causes, e);
    }

    private static String where(Map<String, Object> clientProps) {
        return "Kafka at " + clientProps.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    }

    private static String protocol(Map<String, Object> clientProps) {
        return String.valueOf(clientProps.getOrDefault(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT"));
    }

    private static String mechanism(Map<String, Object> clientProps) {
        return String.valueOf(clientProps.getOrDefault(SaslConfigs.SASL_MECHANISM, SaslConfigs.DEFAULT_SASL_MECHANISM));
    }
}
