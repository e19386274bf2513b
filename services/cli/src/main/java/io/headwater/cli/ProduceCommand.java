package io.headwater.cli;

import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.KafkaAccess;
import io.headwater.kafka.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code headwater produce <file> --task T}: streams a JSON Lines file of labeled examples to Kafka. */
@Command(name = "produce", mixinStandardHelpOptions = true,
        description = {"Send a JSON Lines file (.jsonl or .jsonl.gz) of labeled examples to the examples topic.",
            "Each line is an object with id, text (or image: base64 PNG or JPEG, or vector) and label; its task is set from --task and used as the key.",
            "Lines that are not JSON objects are sent as they are, so the extractor dead-letters them with a reason."})
final class ProduceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "JSON Lines file, optionally gzip-compressed.")
    Path file;

    @Option(names = {"-t", "--task"}, required = true, description = "Task id the examples belong to.")
    String task;

    @Option(names = "--shuffle-seed", paramLabel = "SEED",
            description = "Shuffle the lines with this seed before sending (files grouped by class need it).")
    Long seed;

    @Option(names = "--limit", paramLabel = "N", description = "Send at most N lines.")
    Integer limit;

    @Mixin
    ConnectionOptions connection;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Map<String, String> props = connection.props();
        var config = HeadwaterConfigs.parse(HeadwaterConfigs.common(), props);
        Topics topics = Topics.withPrefix(config.getString(HeadwaterConfigs.TOPIC_PREFIX));
        List<Datasets.Line> lines = Datasets.file(file);
        if (seed != null) {
            lines = Datasets.shuffled(lines, seed);
        }
        if (limit != null) {
            lines = lines.subList(0, Math.min(limit, lines.size()));
        }
        int sent = 0;
        int notJson = 0;
        KafkaAccess.check(HeadwaterConfigs.clientProperties(config));
        try (ExampleProducer producer = new ExampleProducer(HeadwaterConfigs.clientProperties(config), topics)) {
            for (Datasets.Line line : lines) {
                if (!producer.send(task, line)) {
                    notJson++;
                }
                if (++sent % 1000 == 0) {
                    System.err.printf("sent %d of %d%n", sent, lines.size());
                }
            }
            producer.flush();
        }
        spec.commandLine().getOut().printf("Sent %d examples of task %s to %s (%d lines were not JSON objects and will be dead-lettered)%n",
                sent, task, topics.examples().name(), notJson);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
