package io.headwater.serving;

import io.headwater.backbone.ImageBackbone;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The image side of serving: the image backbone and the tasks it serves (the extractor's
 * {@code backbone.image.tasks}). Requests for those tasks carry {@code "image"} or {@code "images"}
 * (base64 PNG or JPEG), and their model versions must be built for this backbone.
 *
 * <pre>{@code
 * Serving.start(config, textBackbone, Optional.of(new ImageTasks(imageBackbone, Pattern.compile("digits"))), registry);
 * }</pre>
 */
public record ImageTasks(ImageBackbone backbone, Pattern tasks) {
    public ImageTasks {
        Objects.requireNonNull(backbone, "backbone cannot be null");
        Objects.requireNonNull(tasks, "tasks cannot be null");
    }

    /** Whether the whole task id matches. */
    public boolean serves(String task) {
        return tasks.matcher(task).matches();
    }

    /** As a rule beside the default text backbone. */
    public TaskBackbone rule() {
        return new TaskBackbone("backbone.image.tasks=" + tasks.pattern(), backbone, tasks);
    }
}
