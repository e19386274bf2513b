package io.headwater.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code headwater acls SERVICE --principal User:NAME}: the {@code kafka-acls.sh} commands that give
 * a service the ACLs it needs and no more ({@link ServiceAcls}), with the names its config gives.
 */
@Command(name = "acls", mixinStandardHelpOptions = true,
        description = {"Print the Kafka ACLs a service needs, as kafka-acls.sh commands.",
            "Prints the kafka-acls.sh commands that give one service the Kafka ACLs it needs, and no more,",
            "for the topic prefix, group ids, application ids and transactional ids its config (-c, -D) gives.",
            "--markdown prints the table of every service instead (the one in docs/security.md)."})
final class AclsCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE",
            description = "extractor, trainer, registry, client (serving and other ModelClient users), watcher "
                    + "(the demo's) or producer.")
    ServiceAcls.Service service;

    @Option(names = "--principal", paramLabel = "PRINCIPAL", defaultValue = "User:headwater",
            description = "The service's Kafka principal (default: ${DEFAULT-VALUE}).")
    String principal;

    @Option(names = "--markdown", description = "Print every service's ACLs as one Markdown table.")
    boolean markdown;

    @Mixin
    ConnectionOptions connection;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (markdown) {
            out.print(ServiceAcls.markdown(connection.props()));
        } else if (service == null) {
            spec.commandLine().getErr().println("headwater acls: name a SERVICE, or give --markdown");
            return 2;
        } else {
            ServiceAcls.kafkaAclsCommands(service, connection.props(), principal).forEach(out::println);
        }
        out.flush();
        return 0;
    }
}
