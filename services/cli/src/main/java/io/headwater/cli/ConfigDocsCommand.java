package io.headwater.cli;

import io.headwater.extractor.ExtractorConfig;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.registry.RegistryConfig;
import io.headwater.trainer.TrainerConfig;
import java.util.concurrent.Callable;
import org.apache.kafka.common.config.ConfigDef;
import picocli.CommandLine.Command;

/** Prints the configuration reference, generated from the config definitions (the copy in docs/configuration.md). */
@Command(name = "config-docs", mixinStandardHelpOptions = true,
        description = "Print every configuration key of every service as Markdown tables.")
final class ConfigDocsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("## Common (every service)\n");
        System.out.println(HeadwaterConfigs.toMarkdown(HeadwaterConfigs.common()));
        print("Extractor", ExtractorConfig.CONFIG);
        System.out.println("## Extractor: each named backbone\n");
        System.out.println("For each name in `" + ExtractorConfig.BACKBONES + "`, these keys, plus every `backbone.*` "
                + "key of the default text backbone (kind text) or every `backbone.image.*` key but "
                + "`backbone.image.tasks` (kind image) as `backbone.<name>.<the same suffix>`, with the same type, "
                + "default and valid values.\n");
        System.out.println(HeadwaterConfigs.toMarkdown(ExtractorConfig.namedBackboneKeys("<name>")));
        print("Trainer", TrainerConfig.CONFIG);
        print("Registry", RegistryConfig.CONFIG);
        print("Serving (plus the extractor's backbone.* keys)", io.headwater.serving.ServingConfig.CONFIG);
        return 0;
    }

    private static void print(String title, ConfigDef def) {
        ConfigDef own = new ConfigDef();
        def.configKeys().values().stream()
                .filter(k -> !HeadwaterConfigs.common().names().contains(k.name))
                .forEach(own::define);
        System.out.println("## " + title + "\n");
        System.out.println(HeadwaterConfigs.toMarkdown(own));
    }
}
