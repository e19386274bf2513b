package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ExampleParserTest {
    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    ExampleParser parser = ExampleParser.instance();

    @Test
    void shouldParseAValidExample() {
        Example e = parser.parse(Optional.of("spam"), utf8(
                "{\"id\":\"1\",\"task\":\"spam\",\"text\":\"hello\",\"label\":\"ham\",\"eventTime\":\"2026-11-27T18:00:00Z\",\"extra\":1}"));
        assertThat(e).isEqualTo(Example.ofText("1", "spam", "hello", "ham", 1_795_802_400_000L));
    }

    @Test
    void shouldAcceptEpochMillisAndNoKey() {
        Example e = parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\",\"eventTime\":5}"));
        assertThat(e.eventTimeMs()).isEqualTo(5);
    }

    @Test
    void shouldRoundTripThroughProducerJson() {
        Example e = Example.ofText("9", "task-1", "some \"quoted\" text", "a", 1234);
        assertThat(parser.parse(Optional.of("task-1"), ExampleParser.toJson(e))).isEqualTo(e);
    }

    @Test
    void shouldRejectBrokenJsonAsJson() {
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\": \"1\", \"text\": \"unterminated")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class, e -> assertThat(e.kind()).isEqualTo("json"))
                .hasMessageStartingWith("not valid JSON");
    }

    @Test
    void shouldRejectMissingLabelNamingTheField() {
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\"}")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class, e -> assertThat(e.kind()).isEqualTo("schema"))
                .hasMessageContaining("label");
    }

    @Test
    void shouldRejectEmptyTextAndWrongTypes() {
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"text\":\"\",\"label\":\"y\"}")))
                .hasMessageContaining("text");
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"label\":7}")))
                .hasMessageContaining("label");
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("[1,2]")))
                .hasMessageContaining("does not match example.schema.json");
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"bad task!\",\"text\":\"x\",\"label\":\"y\"}")))
                .hasMessageContaining("task");
    }

    @Test
    void shouldRejectKeyThatIsNotTheTask() {
        assertThatThrownBy(() -> parser.parse(Optional.of("spam"), utf8("{\"id\":\"1\",\"task\":\"food\",\"text\":\"x\",\"label\":\"y\"}")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class, e -> assertThat(e.kind()).isEqualTo("key"))
                .hasMessage("record key 'spam' does not match task 'food'");
    }

    @Test
    void shouldParseAPrecomputedVectorAndRoundTripIt() {
        Example e = parser.parse(Optional.of("t"), utf8("{\"id\":\"1\",\"task\":\"t\",\"vector\":[0.5,-1,2e-3],\"label\":\"y\"}"));
        assertThat(e.input()).isEqualTo(new Example.Vector(new float[] {0.5f, -1f, 2e-3f}));
        assertThat(parser.parse(Optional.of("t"), ExampleParser.toJson(e))).isEqualTo(e);
    }

    @Test
    void shouldRejectTextAndVectorTogetherAndNonFiniteVectors() {
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"vector\":[1],\"label\":\"y\"}")))
                .hasMessageContaining("does not match example.schema.json");
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"vector\":[1, 1e39],\"label\":\"y\"}")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class, e -> assertThat(e.kind()).isEqualTo("vector"))
                .hasMessage("vector value 1 (1.0E39) is not a finite 32-bit float");
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"vector\":[1, \"a\"],\"label\":\"y\"}")))
                .hasMessageContaining("vector");
    }

    @Test
    void shouldParseABase64ImageAndRoundTripIt() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2};
        String b64 = java.util.Base64.getEncoder().encodeToString(png);
        Example e = parser.parse(Optional.of("digits"), utf8("{\"id\":\"1\",\"task\":\"digits\",\"image\":\"" + b64
                + "\",\"label\":\"7\"}"));
        assertThat(e.input()).isEqualTo(new Example.Image(png));
        assertThat(ExampleParser.parseFast(ExampleParser.toJson(e))).isEqualTo(e);
        assertThat(parser.parse(Optional.of("digits"), ExampleParser.toJson(e))).isEqualTo(e);
    }

    @Test
    void shouldRejectAnImageThatIsNotBase64OrComesWithAText() {
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"image\":\"not*base64\",\"label\":\"y\"}")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class,
                        e -> assertThat(e.kind()).isEqualTo(ExampleParser.IMAGE_FORMAT))
                .hasMessageStartingWith("not an image: \"image\" is not valid base64");
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"image\":\"AAAA\",\"text\":\"x\",\"label\":\"y\"}")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class, e -> assertThat(e.kind()).isEqualTo("schema"));
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"image\":7,\"label\":\"y\"}")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class, e -> assertThat(e.kind()).isEqualTo("schema"));
    }

    @Test
    void shouldRejectUnparseableEventTime() {
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\",\"eventTime\":\"yesterday\"}")))
                .hasMessage("eventTime 'yesterday' is not an ISO-8601 instant");
    }

    @Test
    void shouldRejectAnInstantBeyondEpochMillisecondsAsSchema() {
        assertThatThrownBy(() -> parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\",\"eventTime\":\"+1000000000-12-31T23:59:59Z\"}")))
                .isInstanceOfSatisfying(ExampleParser.InvalidExample.class, e -> assertThat(e.kind()).isEqualTo("schema"));
    }

    /** What the fast path accepts, the schema accepts, as the same example; the rest it leaves to the schema. */
    @Test
    void shouldLeaveToTheSchemaWhatTheFastPathDoesNotPlainlyAccept() {
        String[] slow = {
            "{\"id\":\"1\",\"id\":\"2\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\"}",
            "{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\",\"eventTime\":5.0}",
            "{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\",\"eventTime\":null}",
            "{\"id\":\"1\",\"task\":\"t\",\"vector\":[],\"label\":\"y\"}",
            "{\"id\":\"1\",\"task\":\"t\",\"vector\":[1,[2]],\"label\":\"y\"}",
            "{\"id\":\"1\",\"task\":\"t\",\"vector\":[1e39],\"label\":\"y\"}",
            "{\"id\":\"1\",\"task\":\"t\",\"label\":\"y\"}",
            "{\"id\":\"" + "\uD83D\uDE00".repeat(200) + "\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\"}",
            "null", "[1]", "{\"id\":\"1\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\"",
        };
        assertThat(ExampleParser.parseFast(ExampleParser.toJson(new Example("1", "t",
                new Example.Vector(new float[] {0.25f, -3e-7f, 1f}), "y", 1_795_802_400_000L)))).isNotNull();
        for (String json : slow) {
            assertThat(ExampleParser.parseFast(utf8(json))).as(json).isNull();
        }
        // 200 surrogate pairs are 400 UTF-16 units but 200 code points: valid, decided by the schema.
        assertThat(parser.parse(Optional.empty(), utf8(slow[7])).id()).hasSize(400);
        assertThat(parser.parse(Optional.empty(), utf8("{\"id\":\"1\",\"id\":\"2\",\"task\":\"t\",\"text\":\"x\",\"label\":\"y\"}")).id())
                .isEqualTo("2");
    }

    /** Jackson's fast double parser is on: it must read every value as Double.parseDouble does. */
    @Test
    void shouldReadVectorValuesExactlyAsDoubleParseDouble() {
        java.util.Random rnd = new java.util.Random(11);
        for (int round = 0; round < 200; round++) {
            String[] texts = new String[50];
            StringBuilder json = new StringBuilder("{\"id\":\"1\",\"task\":\"t\",\"label\":\"y\",\"vector\":[");
            for (int i = 0; i < texts.length; i++) {
                double d = switch (i % 3) {
                    case 0 -> rnd.nextGaussian();
                    case 1 -> rnd.nextDouble() * Math.pow(10, rnd.nextInt(20) - 10);
                    default -> Double.longBitsToDouble(rnd.nextLong() & 0x3fefffffffffffffL);
                };
                texts[i] = i % 5 == 0 ? String.format(java.util.Locale.ROOT, "%.9e", d) : Double.toString(d);
                json.append(i == 0 ? "" : ",").append(texts[i]);
            }
            float[] v = ((Example.Vector) parser.parse(Optional.empty(), utf8(json + "]}")).input()).values();
            for (int i = 0; i < texts.length; i++) {
                assertThat(v[i]).as(texts[i]).isEqualTo((float) Double.parseDouble(texts[i]));
            }
        }
    }
}
