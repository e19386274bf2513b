package io.headwater.kafka;

import java.util.Arrays;
import java.util.Objects;

/**
 * A labeled example as producers send it ({@code schemas/example.schema.json}), after validation.
 *
 * @param id          producer-chosen id, carried through to features and counts
 * @param task        the task it belongs to (also the record key)
 * @param input       what to learn from: a text or an image for the backbone, or a pre-computed vector
 * @param label       the label
 * @param eventTimeMs epoch milliseconds, or -1 when the example has none
 */
public record Example(String id, String task, Input input, String label, long eventTimeMs) {
    public Example {
        Objects.requireNonNull(id, "id cannot be null");
        Objects.requireNonNull(task, "task cannot be null");
        Objects.requireNonNull(input, "input cannot be null");
        Objects.requireNonNull(label, "label cannot be null");
    }

    /** A text example. */
    public static Example ofText(String id, String task, String text, String label, long eventTimeMs) {
        return new Example(id, task, new Text(text), label, eventTimeMs);
    }

    /** The input kinds an example can carry. */
    public sealed interface Input permits Text, Image, Vector {
    }

    /** The encoded bytes of a PNG or JPEG (base64-decoded), embedded by the image backbone. */
    public record Image(byte[] bytes) implements Input {
        public Image {
            Objects.requireNonNull(bytes, "bytes cannot be null");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Image i && Arrays.equals(i.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Image[" + bytes.length + " bytes]";
        }
    }

    /** Text, embedded by the backbone. */
    public record Text(String text) implements Input {
        public Text {
            Objects.requireNonNull(text, "text cannot be null");
        }
    }

    /** An embedding the producer computed with the same backbone; it bypasses the backbone. */
    public record Vector(float[] values) implements Input {
        public Vector {
            Objects.requireNonNull(values, "values cannot be null");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Vector v && Arrays.equals(v.values, values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "Vector[" + values.length + " values]";
        }
    }
}
