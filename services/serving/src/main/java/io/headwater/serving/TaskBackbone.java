package io.headwater.serving;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.Embedder;
import io.headwater.backbone.ImageBackbone;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A backbone and the task ids it serves beside serving's default text backbone, as the extractor
 * routes them: a named backbone of {@code backbones} ({@code backbone.<name>.tasks}) or the image
 * backbone ({@code backbone.image.tasks}). Requests for its tasks are embedded by it, texts or
 * images by its kind, and their model versions must be built for it.
 *
 * <pre>{@code
 * List<TaskBackbone> rules = List.of(new TaskBackbone("backbone.bge.tasks=bge-.*", bge, Pattern.compile("bge-.*")));
 * Serving.start(config, defaultBackbone, rules, registry);
 * }</pre>
 *
 * @param rule the setting that gives it its tasks, for messages
 * @param backbone a text {@link Backbone} or an {@link ImageBackbone}
 * @param tasks the task ids it serves (the whole id must match)
 */
public record TaskBackbone(String rule, Embedder backbone, Pattern tasks) {
    public TaskBackbone {
        Objects.requireNonNull(rule, "rule cannot be null");
        Objects.requireNonNull(backbone, "backbone cannot be null");
        Objects.requireNonNull(tasks, "tasks cannot be null");
        if (!(backbone instanceof Backbone) && !(backbone instanceof ImageBackbone)) {
            throw new IllegalArgumentException("backbone must be a text Backbone or an ImageBackbone: " + backbone);
        }
    }

    /** Whether the whole task id matches. */
    public boolean serves(String task) {
        return tasks.matcher(task).matches();
    }

    /** Whether it embeds images. */
    public boolean images() {
        return backbone instanceof ImageBackbone;
    }
}
