package io.headwater.extractor;

import java.util.HashMap;
import java.util.Map;

/** Extractor configs for tests: a bootstrap server and the given keys and values. */
final class TestConfigs {
    private TestConfigs() {
    }

    static ExtractorConfig extractor(String... keyValues) {
        Map<String, String> props = new HashMap<>();
        props.put("bootstrap.servers", "localhost:9092");
        for (int i = 0; i < keyValues.length; i += 2) {
            props.put(keyValues[i], keyValues[i + 1]);
        }
        return new ExtractorConfig(props);
    }
}
