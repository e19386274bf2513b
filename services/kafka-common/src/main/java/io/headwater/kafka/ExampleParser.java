package io.headwater.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.headwater.core.BadRecordException;
import io.headwater.core.FatalException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Parses and validates labeled examples against {@code schemas/example.schema.json}, the contract
 * producers code against. Anything that does not pass gives a {@link BadRecordException} whose
 * message is the reason a dead-letter record carries.
 *
 * <pre>{@code
 * Example e = ExampleParser.instance().parse(Optional.of(key), valueBytes);
 * }</pre>
 */
public final class ExampleParser {
    public static final String SCHEMA_RESOURCE = "/schemas/example.schema.json";
    private static final ExampleParser INSTANCE = new ExampleParser();

    private final JsonSchema schema;

    private ExampleParser() {
        try (InputStream in = ExampleParser.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new FatalException("schema " + SCHEMA_RESOURCE + " is not on the classpath");
            }
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        } catch (IOException e) {
            throw new FatalException("Failed to read " + SCHEMA_RESOURCE, e);
        }
    }

    public static ExampleParser instance() {
        return INSTANCE;
    }

    /**
     * @param key   the record key; when present it must equal the example's task
     * @param value the record value, UTF-8 JSON
     */
    public Example parse(Optional<String> key, byte[] value) {
        if (value == null) {
            throw new InvalidExample("empty", "empty record: no value");
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(value);
        } catch (JsonProcessingException e) {
            throw new InvalidExample("json", "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidExample("json", "not valid JSON: " + e.getMessage());
        }
        if (node == null || node.isMissingNode()) {
            throw new InvalidExample("json", "not valid JSON: empty value");
        }
        Set<ValidationMessage> errors = schema.validate(node);
        if (!errors.isEmpty()) {
            throw new InvalidExample("schema", "does not match example.schema.json: " + errors.stream()
                    .map(ValidationMessage::getMessage).sorted(Comparator.naturalOrder())
                    .collect(Collectors.joining("; ")));
        }
        String task = node.get("task").asText();
        if (key.isPresent() && !key.get().equals(task)) {
            String k = key.get().length() > 100 ? key.get().substring(0, 100) + "... (" + key.get().length()
                    + " characters)" : key.get();
            throw new InvalidExample("key", "record key '" + k + "' does not match task '" + task + "'");
        }
        Example.Input input = node.has("vector") ? vector(node.get("vector")) : new Example.Text(node.get("text").asText());
        return new Example(node.get("id").asText(), task, input, node.get("label").asText(),
                eventTime(node.get("eventTime")));
    }

    private static Example.Vector vector(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) array.get(i).asDouble();
            if (!Float.isFinite(v[i])) {
                throw new InvalidExample("vector", "vector value " + i + " (" + array.get(i).asText()
                        + ") is not a finite 32-bit float");
            }
            if (Math.abs(v[i]) > FeatureRecord.MAX_ABS_VALUE) {
                throw new InvalidExample("vector", "vector value " + i + " (" + array.get(i).asText()
                        + ") is beyond +-" + FeatureRecord.MAX_ABS_VALUE + " (embeddings are normalised)");
            }
        }
        return new Example.Vector(v);
    }

    private static long eventTime(JsonNode n) {
        if (n == null || n.isNull()) {
            return -1;
        }
        if (n.isIntegralNumber()) {
            return n.asLong();
        }
        try {
            return Instant.parse(n.asText()).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new InvalidExample("schema", "eventTime '" + n.asText() + "' is not an ISO-8601 instant");
        }
    }

    /** An example that cannot be used; {@link #kind()} is the short error class for headers and metrics. */
    public static final class InvalidExample extends BadRecordException {
        private static final long serialVersionUID = 1L;
        private final String kind;

        public InvalidExample(String kind, String message) {
            super(message);
            this.kind = kind;
        }

        /** One of {@code empty}, {@code json}, {@code schema}, {@code key}, {@code vector}. */
        public String kind() {
            return kind;
        }
    }

    /** The example as the JSON a producer sends. */
    public static byte[] toJson(Example e) {
        var node = Json.MAPPER.createObjectNode().put("id", e.id()).put("task", e.task());
        if (e.input() instanceof Example.Text t) {
            node.put("text", t.text());
        } else if (e.input() instanceof Example.Vector v) {
            var array = node.putArray("vector");
            for (float f : v.values()) {
                array.add(f);
            }
        }
        node.put("label", e.label());
        if (e.eventTimeMs() >= 0) {
            node.put("eventTime", Instant.ofEpochMilli(e.eventTimeMs()).toString());
        }
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }
}
