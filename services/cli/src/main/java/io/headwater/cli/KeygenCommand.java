package io.headwater.cli;

import io.headwater.kafka.UpdateSignature;
import io.headwater.registry.RegistryConfig;
import io.headwater.serving.ServingConfig;
import java.io.PrintWriter;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code headwater keygen}: a new Ed25519 key pair for signing model updates, as config lines. */
@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = {"Print a new Ed25519 key pair for signing model updates.",
            "As config lines: the private key for the registry, the public key for consumers (serving, ModelClient)."})
final class KeygenCommand implements Callable<Integer> {
    @Option(names = "--key-id", defaultValue = "registry", paramLabel = "ID",
            description = "Key id written beside each signature (default: ${DEFAULT-VALUE}).")
    String keyId;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        KeyPair keys = UpdateSignature.generate();
        PrintWriter out = spec.commandLine().getOut();
        out.println("# registry (keep secret)");
        out.println(RegistryConfig.SIGNING_KEY + "=" + UpdateSignature.encode(keys.getPrivate()));
        out.println(RegistryConfig.SIGNING_KEY_ID + "=" + keyId);
        out.println("# consumers");
        out.println(ServingConfig.TRUSTED_KEYS + "=" + keyId + ":" + UpdateSignature.encode(keys.getPublic()));
        out.flush();
        return 0;
    }
}
