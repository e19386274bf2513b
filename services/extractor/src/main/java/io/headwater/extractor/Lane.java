package io.headwater.extractor;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.Embedder;
import io.headwater.backbone.ImageBackbone;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One backbone of the extractor and the tasks routed to it: the default text backbone, the
 * {@code backbone.image.*} one, or a named one of {@code backbones}.
 *
 * @param index its position among the extractor's lanes, for per-batch grouping without a map
 * @param name {@code default}, {@code image} or the name in {@code backbones}
 * @param backbone what embeds its examples
 * @param images whether it takes images (else texts)
 * @param tasksKey the key whose pattern routes tasks here ({@code backbone.bge.tasks}); empty for the default
 * @param tasks that pattern; empty for the default, which takes every task no other lane takes
 * @param cache its namespace of the embedding cache, for a text backbone when the cache is on
 */
record Lane(int index, String name, Embedder backbone, boolean images, String tasksKey, Optional<Pattern> tasks,
            Optional<EmbeddingCache> cache) {
    static final String DEFAULT = "default";
    static final String IMAGE = "image";

    Lane {
        Objects.requireNonNull(name, "name cannot be null");
        Objects.requireNonNull(backbone, "backbone cannot be null");
        Objects.requireNonNull(tasksKey, "tasksKey cannot be null");
        Objects.requireNonNull(tasks, "tasks cannot be null");
        Objects.requireNonNull(cache, "cache cannot be null");
    }

    /** The text backbone, for a lane that takes texts. */
    Backbone text() {
        return (Backbone) backbone;
    }

    /** The image backbone, for a lane that takes images. */
    ImageBackbone image() {
        return (ImageBackbone) backbone;
    }

    /** {@code backbone.bge.tasks=bge-.*}, for messages; empty for the default lane. */
    String rule() {
        return tasks.map(p -> tasksKey + "=" + p.pattern()).orElse("");
    }
}
