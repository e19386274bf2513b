package io.headwater.cli;

import io.headwater.core.HeadwaterException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code headwater} launcher.
 *
 * <pre>{@code
 * headwater demo --max-seconds 300
 * headwater produce data.jsonl --task my-task --bootstrap-servers kafka:9092
 * headwater trainer --config trainer.properties
 * headwater serving -b kafka:9092 -D serving.port=8080
 * }</pre>
 */
@Command(name = "headwater", mixinStandardHelpOptions = true, version = "headwater 0.1.0",
        description = "Continual transfer learning on Kafka streams.",
        subcommands = {DemoCommand.class, UpCommand.class, EvaluateCommand.class, ProduceCommand.class, ServiceCommands.Extractor.class,
            ServiceCommands.Trainer.class, ServiceCommands.Registry.class, ServiceCommands.Serving.class, ConfigDocsCommand.class,
            KeygenCommand.class, AclsCommand.class, RegistryCommands.Tasks.class, RegistryCommands.Versions.class,
            RegistryCommands.Rollback.class, RegistryCommands.Pin.class, RegistryCommands.Unpin.class,
            RegistryCommands.Pause.class, RegistryCommands.Resume.class, RegistryCommands.Predict.class,
            CommandLine.HelpCommand.class})
public final class Headwater implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with Headwater's error handling: a bad config prints its message, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Headwater());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof HeadwaterException) {
                commandLine.getErr().println("headwater: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cl;
    }
}
