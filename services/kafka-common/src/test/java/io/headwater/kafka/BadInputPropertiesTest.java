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
