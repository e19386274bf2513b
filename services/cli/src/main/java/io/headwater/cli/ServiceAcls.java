package io.headwater.cli;

import io.headwater.client.ModelClient;
import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.Topics;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka ACLs each Headwater service needs on a cluster with an authorizer, and nothing more,
 * derived from the service's configuration (topic prefix, group ids, application ids, transactional
 * ids). {@code SecurityIT} runs the whole loop with exactly these and nothing else; docs/security.md's
 * table is {@link #markdown} of the defaults.
 *
 * <pre>{@code
 * admin.createAcls(ServiceAcls.bindings(ServiceAcls.Service.TRAINER, props, "User:trainer")).all().get();
 * }</pre>
 */
public final class ServiceAcls {
    private static final List<AclOperation> READS = List.of(AclOperation.READ, AclOperation.DESCRIBE);
    private static final List<AclOperation> WRITES = List.of(AclOperation.WRITE, AclOperation.DESCRIBE);
    private static final List<AclOperation> TRANSACTIONS = List.of(AclOperation.WRITE, AclOperation.DESCRIBE);

    /** Who talks to Kafka. */
    public enum Service {
        EXTRACTOR, TRAINER, REGISTRY,
        /** Serving, and any other consumer on the client library ({@code ModelClient}). */
        CLIENT,
        /** The demo's watcher of model-updates and model-history. */
        WATCHER,
        /** The {@code produce} command, and any producer of examples. */
        PRODUCER;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One resource and the operations allowed on it. */
    public record Grant(ResourceType type, PatternType pattern, String name, List<AclOperation> operations) {
        public Grant {
            operations = List.copyOf(operations);
        }
    }

    private ServiceAcls() {
    }

    /**
     * What the service needs, with the names its configuration gives. Topics a service creates
     * when they are missing carry CREATE; where an operator creates them beforehand, CREATE can go.
     */
    public static List<Grant> grants(Service service, Map<String, String> props) {
        Topics t = Topics.withPrefix(HeadwaterConfigs.parse(HeadwaterConfigs.common(), props)
                .getString(HeadwaterConfigs.TOPIC_PREFIX));
        List<Grant> g = new ArrayList<>();
        switch (service) {
            case EXTRACTOR -> {
                ExtractorConfig c = new ExtractorConfig(props);
                g.add(topic(t.examples().name(), AclOperation.READ, AclOperation.DESCRIBE, AclOperation.CREATE));
                // DESCRIBE_CONFIGS: dead letters are sized to the topic's own max.message.bytes.
                g.add(topic(t.examplesDlq().name(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE,
                        AclOperation.DESCRIBE_CONFIGS));
                g.add(topic(t.features().name(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE));
                g.add(new Grant(ResourceType.GROUP, PatternType.LITERAL, c.groupId(), List.of(AclOperation.READ)));
                // Empty extractor.transactional.id means <group id>-<host name>: one prefix covers every host.
                String txn = c.raw().getString(ExtractorConfig.TRANSACTIONAL_ID);
                g.add(txn.isEmpty() ? new Grant(ResourceType.TRANSACTIONAL_ID, PatternType.PREFIXED, c.groupId() + "-",
                        TRANSACTIONS) : new Grant(ResourceType.TRANSACTIONAL_ID, PatternType.LITERAL, txn, TRANSACTIONS));
            }
            case TRAINER -> {
                g.add(topic(t.features().name(), AclOperation.READ, AclOperation.DESCRIBE, AclOperation.CREATE));
                g.add(topic(t.featuresDlq().name(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE,
                        AclOperation.DESCRIBE_CONFIGS));
                g.add(topic(t.modelCandidates().name(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE));
                g.addAll(streamsApplication(new TrainerConfig(props).applicationId()));
            }
            case REGISTRY -> {
                g.add(topic(t.modelCandidates().name(), AclOperation.READ, AclOperation.DESCRIBE, AclOperation.CREATE));
                // The registry's API writes operators' commands; its Streams topology reads them.
                g.add(topic(t.registryCommands().name(), AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE,
                        AclOperation.CREATE));
                g.add(topic(t.modelUpdates().name(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE));
                g.add(topic(t.modelHistory().name(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE));
                g.add(topic(t.registryDlq().name(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE,
                        AclOperation.DESCRIBE_CONFIGS));
                g.addAll(streamsApplication(new RegistryConfig(props).applicationId()));
            }
            case CLIENT -> {
                g.add(topic(t.modelUpdates().name(), READS.toArray(AclOperation[]::new)));
                g.add(new Grant(ResourceType.GROUP, PatternType.PREFIXED, ModelClient.GROUP_PREFIX,
                        List.of(AclOperation.READ)));
            }
            case WATCHER -> {
                g.add(topic(t.modelUpdates().name(), READS.toArray(AclOperation[]::new)));
                g.add(topic(t.modelHistory().name(), READS.toArray(AclOperation[]::new)));
                g.add(new Grant(ResourceType.GROUP, PatternType.PREFIXED, ModelUpdateWatcher.GROUP_PREFIX,
                        List.of(AclOperation.READ)));
            }
            case PRODUCER -> g.add(topic(t.examples().name(), WRITES.toArray(AclOperation[]::new)));
        }
        return List.copyOf(g);
    }

    /**
     * A Kafka Streams application with exactly_once_v2: its internal topics (changelogs, named
     * {@code <application.id>-...}), its consumer group and its producers' transactional ids
     * ({@code <application.id>-<process id>-<thread>}).
     */
    private static List<Grant> streamsApplication(String applicationId) {
        return List.of(new Grant(ResourceType.TOPIC, PatternType.PREFIXED, applicationId + "-", List.of(
                        AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE)),
                new Grant(ResourceType.GROUP, PatternType.LITERAL, applicationId, List.of(AclOperation.READ)),
                new Grant(ResourceType.TRANSACTIONAL_ID, PatternType.PREFIXED, applicationId + "-", TRANSACTIONS));
    }

    private static Grant topic(String name, AclOperation... operations) {
        return new Grant(ResourceType.TOPIC, PatternType.LITERAL, name, List.of(operations));
    }

    /** The grants as ACL bindings for {@code principal} ({@code User:name}), allowed from any host. */
    public static List<AclBinding> bindings(Service service, Map<String, String> props, String principal) {
        List<AclBinding> out = new ArrayList<>();
        for (Grant g : grants(service, props)) {
            for (AclOperation op : g.operations()) {
                out.add(new AclBinding(new ResourcePattern(g.type(), g.name(), g.pattern()),
                        new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)));
            }
        }
        return out;
    }

    /** The {@code kafka-acls.sh} command lines that create the grants for {@code principal}. */
    public static List<String> kafkaAclsCommands(Service service, Map<String, String> props, String principal) {
        List<String> out = new ArrayList<>();
        for (Grant g : grants(service, props)) {
            StringBuilder b = new StringBuilder("kafka-acls.sh --bootstrap-server BROKER --command-config admin.properties"
                    + " --add --allow-principal ").append(principal);
            for (AclOperation op : g.operations()) {
                b.append(" --operation ").append(camel(op.name()));
            }
            b.append(switch (g.type()) {
                case TOPIC -> " --topic ";
                case GROUP -> " --group ";
                case TRANSACTIONAL_ID -> " --transactional-id ";
                default -> throw new IllegalStateException("unhandled resource type " + g.type());
            }).append(g.name());
            if (g.pattern() == PatternType.PREFIXED) {
                b.append(" --resource-pattern-type prefixed");
            }
            out.add(b.toString());
        }
        return out;
    }

    /** One table of every service's grants, for docs/security.md. */
    public static String markdown(Map<String, String> props) {
        StringBuilder b = new StringBuilder("| service | resource | name | pattern | operations |\n|---|---|---|---|---|\n");
        for (Service s : Service.values()) {
            for (Grant g : grants(s, props)) {
                b.append("| ").append(s.id()).append(" | ").append(g.type().name().toLowerCase(Locale.ROOT).replace('_', ' '))
                        .append(" | `").append(g.name()).append("` | ").append(g.pattern().name().toLowerCase(Locale.ROOT))
                        .append(" | ").append(g.operations().stream().map(op -> op.name().toLowerCase(Locale.ROOT))
                                .collect(Collectors.joining(", "))).append(" |\n");
            }
        }
        return b.toString();
    }

    private static String camel(String upper) {
        StringBuilder b = new StringBuilder();
        for (String part : upper.split("_")) {
            b.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
        }
        return b.toString();
    }
}
