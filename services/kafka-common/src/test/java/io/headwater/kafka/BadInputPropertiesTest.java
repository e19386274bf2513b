package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Properties of what the stages do with input nobody checked: any bytes, any size. */
class BadInputPropertiesTest {
    static final List<String> KINDS = List.of("empty", "json", "schema", "key", "vector");

    @Property(tries = 3000, seed = "20261201")
    void shouldParseAnyBytesIntoAnExampleOrAReasonNeverAnotherError(@ForAll @Size(max = 600) byte[] value,
                                                                    @ForAll @Size(max = 40) byte[] key) {
        try {
            Example e = ExampleParser.instance().parse(Optional.of(new String(key, java.nio.charset.StandardCharsets.UTF_8)),
                    value);
            assertThat(e.id()).isNotEmpty();
        } catch (ExampleParser.InvalidExample e) {
            assertThat(e.kind()).isIn(KINDS);
            assertThat(e.getMessage()).isNotBlank();
        }
    }

    /**
     * The fast path never accepts what the schema refuses, and gives what the schema's path gives:
     * valid examples with random vectors, texts, times and extra fields, and the same cut anywhere.
     */
    @Property(tries = 2000, seed = "20261202")
    void shouldParseFastExactlyAsTheSchemaDoes(@ForAll @Size(min = 1, max = 40) List<Double> values,
                                              @ForAll @IntRange(max = 5) int variant,
                                              @ForAll @IntRange(max = 2000) int cut,
                                              @ForAll @IntRange(min = -5, max = 5) int exponent) {
        StringBuilder v = new StringBuilder();
        for (Double d : values) {
            v.append(v.length() == 0 ? "" : ",").append(variant == 3 ? Long.toString(Math.round(d * 1e6)) : d + "e"
                    + exponent);
        }
        String input = variant == 1 ? "\"text\":\"" + values.get(0) + " \\u00e9\\\" x\"" : "\"vector\":[" + v + "]";
        String time = switch (variant) {
            case 2 -> ",\"eventTime\":\"2026-11-27T18:00:00.123Z\"";
            case 4 -> ",\"eventTime\":" + Math.abs(values.size() * 1_000_003L);
            default -> "";
        };
        String extra = variant == 5 ? ",\"extra\":{\"a\":[1,{\"b\":null}],\"c\":\"d\"}" : "";
        String json = "{\"id\":\"e" + cut + "\",\"task\":\"t-1.x_y\"," + input + extra + ",\"label\":\"l\"" + time
                + "}";
        for (byte[] bytes : List.of(json.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.util.Arrays.copyOf(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), Math.min(cut, json.length())))) {
            Example fast = ExampleParser.parseFast(bytes);
            Object slow;
            try {
                slow = ExampleParser.instance().parseSlow(Optional.empty(), bytes);
            } catch (ExampleParser.InvalidExample e) {
                slow = e.kind();
            }
            if (fast != null) {
                assertThat(slow).isEqualTo(fast);
            } else if (bytes.length == json.length() && !(slow instanceof String)) {
                // Whatever the fast path left out must be one of its documented cases: here, a bad vector value.
                assertThat(slow).isInstanceOf(Example.class);
                throw new AssertionError("the fast path refused a valid example: " + json);
            }
        }
    }

    @Property(tries = 3000, seed = "20261201")
    void shouldDecodeAnyBytesIntoAFeatureRecordOrAReason(@ForAll @Size(max = 2000) byte[] value) {
        try {
            FeatureRecord f = FeatureRecord.decode(value);
            for (float x : f.embedding()) {
                assertThat(Float.isFinite(x)).isTrue();
            }
        } catch (io.headwater.core.BadRecordException e) {
            assertThat(e.getMessage()).isNotBlank();
        }
    }

    @Property(tries = 500, seed = "20261201")
    void shouldFitEveryDeadLetterIntoItsLimit(@ForAll @IntRange(max = 300_000) int keySize,
                                              @ForAll @IntRange(max = 3_000_000) int valueSize,
                                              @ForAll @IntRange(min = 16_384, max = 1_048_576) int maxBytes,
                                              @ForAll @IntRange(max = 40) int headers,
                                              @ForAll @IntRange(max = 5_000) int reasonLength) {
        RecordHeaders source = new RecordHeaders();
        for (int i = 0; i < headers; i++) {
            source.add("h" + i, new byte[i * 500]);
        }
        DeadLetters.Letter l = DeadLetters.letter(new byte[keySize], new byte[valueSize], source, "t", 0, 7, "json",
                "r".repeat(reasonLength), maxBytes);
        assertThat(l.size() + DeadLetters.FRAMING_BYTES).isLessThanOrEqualTo(maxBytes);
        boolean cut = valueSize > l.value().length;
        assertThat(DeadLetters.header(l.headers(), DeadLetters.ORIGINAL_SIZE))
                .isEqualTo(cut ? Integer.toString(valueSize) : "");
        assertThat(DeadLetters.header(l.headers(), DeadLetters.SOURCE_OFFSET)).isEqualTo("7");
    }
}
