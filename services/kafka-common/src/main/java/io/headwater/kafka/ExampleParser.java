package io.headwater.kafka;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
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
import java.util.Arrays;
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

    /** The schema's {@code maxItems} for {@code vector}. */
    static final int MAX_VECTOR = 8192;

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
        Example fast = parseFast(value);
        if (fast != null) {
            checkKey(key, fast.task());
            return fast;
        }
        return parseSlow(key, value);
    }

    /**
     * The reference path: the whole tree, validated by the JSON Schema. Every record the fast path
     * does not accept comes here, so what is accepted and every reason given are the schema's.
     */
    Example parseSlow(Optional<String> key, byte[] value) {
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
        checkKey(key, task);
        Example.Input input = node.has("vector") ? vector(node.get("vector")) : new Example.Text(node.get("text").asText());
        return new Example(node.get("id").asText(), task, input, node.get("label").asText(),
                eventTime(node.get("eventTime")));
    }

    private static void checkKey(Optional<String> key, String task) {
        if (key.isPresent() && !key.get().equals(task)) {
            String k = key.get().length() > 100 ? key.get().substring(0, 100) + "... (" + key.get().length()
                    + " characters)" : key.get();
            throw new InvalidExample("key", "record key '" + k + "' does not match task '" + task + "'");
        }
    }

    /**
     * The fast path: one pass of Jackson's streaming parser, vector values straight into a
     * {@code float[]}, and the schema's rules checked on the values as they are read. It accepts only
     * what plainly satisfies {@code example.schema.json} and answers null for anything else (not
     * JSON, a rule broken, or a case it leaves to the schema: a duplicate field, a string whose
     * length in UTF-16 units is over a limit counted in code points, a fractional eventTime), which
     * {@link #parseSlow} then decides. Its result for what it accepts equals the slow path's.
     */
    static Example parseFast(byte[] value) {
        try (JsonParser p = Json.MAPPER.getFactory().createParser(value)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String id = null;
            String task = null;
            String label = null;
            String text = null;
            float[] vector = null;
            long eventTime = -1;
            boolean seenEventTime = false;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                if (t != JsonToken.FIELD_NAME) {
                    return null;
                }
                String field = p.currentName();
                JsonToken v = p.nextToken();
                switch (field) {
                    case "id" -> {
                        if (id != null || (id = string(p, v, 256)) == null) {
                            return null;
                        }
                    }
                    case "task" -> {
                        if (task != null || (task = string(p, v, 128)) == null || !isTaskName(task)) {
                            return null;
                        }
                    }
                    case "label" -> {
                        if (label != null || (label = string(p, v, 256)) == null) {
                            return null;
                        }
                    }
                    case "text" -> {
                        if (text != null || (text = string(p, v, 100_000)) == null) {
                            return null;
                        }
                    }
                    case "vector" -> {
                        if (vector != null || v != JsonToken.START_ARRAY || (vector = floats(p)) == null) {
                            return null;
                        }
                    }
                    case "eventTime" -> {
                        if (seenEventTime) {
                            return null;
                        }
                        seenEventTime = true;
                        if (v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                                && p.getLongValue() >= 0) {
                            eventTime = p.getLongValue();
                        } else if (v == JsonToken.VALUE_STRING && !p.getText().isEmpty()) {
                            try {
                                eventTime = Instant.parse(p.getText()).toEpochMilli();
                            } catch (DateTimeParseException | ArithmeticException e) {
                                return null;
                            }
                        } else {
                            return null;
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (id == null || task == null || label == null || (text == null) == (vector == null)) {
                return null;
            }
            Example.Input input = text != null ? new Example.Text(text) : checked(vector);
            return input == null ? null : new Example(id, task, input, label, eventTime);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** A string value of 1 to {@code max} UTF-16 units (so at most {@code max} code points), or null. */
    private static String string(JsonParser p, JsonToken t, int max) throws IOException {
        if (t != JsonToken.VALUE_STRING) {
            return null;
        }
        String s = p.getText();
        return s.isEmpty() || s.length() > max ? null : s;
    }

    private static boolean isTaskName(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** The numbers of an array, read as the tree would read them ({@code (float) asDouble()}), or null. */
    private static float[] floats(JsonParser p) throws IOException {
        float[] v = new float[512];
        int n = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t != JsonToken.VALUE_NUMBER_FLOAT && t != JsonToken.VALUE_NUMBER_INT) {
                return null;
            }
            if (n == MAX_VECTOR) {
                return null;
            }
            if (n == v.length) {
                v = Arrays.copyOf(v, Math.min(MAX_VECTOR, v.length * 2));
            }
            v[n++] = (float) p.getDoubleValue();
        }
        return n == 0 ? null : Arrays.copyOf(v, n);
    }

    /** The vector when every value is usable; null sends it to the slow path for its reason. */
    private static Example.Vector checked(float[] v) {
        for (float x : v) {
            if (!(Math.abs(x) <= FeatureRecord.MAX_ABS_VALUE)) {
                return null;
            }
        }
        return new Example.Vector(v);
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
        } catch (DateTimeParseException | ArithmeticException e) {
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
