package io.headwater.kafka;

import java.util.Objects;

/**
 * A labeled example as producers send it ({@code schemas/example.schema.json}), after validation.
 *
 * @param id          producer-chosen id, carried through to features and counts
 * @param task        the task it belongs to (also the record key)
 * @param text        the text input
 * @param label       the label
 * @param eventTimeMs epoch milliseconds, or -1 when the example has none
 */
public record Example(String id, String task, String text, String label, long eventTimeMs) {
    public Example {
        Objects.requireNonNull(id, "id cannot be null");
        Objects.requireNonNull(task, "task cannot be null");
        Objects.requireNonNull(text, "text cannot be null");
        Objects.requireNonNull(label, "label cannot be null");
    }
}
