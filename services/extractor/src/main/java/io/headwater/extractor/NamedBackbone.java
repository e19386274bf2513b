package io.headwater.extractor;

import io.headwater.backbone.BackboneSpec;
import io.headwater.backbone.ImageBackboneSpec;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One entry of {@code backbones}: its name, the task ids it embeds ({@code backbone.<name>.tasks})
 * and what to load, a text backbone or ({@code backbone.<name>.kind=image}) an image one.
 *
 * <pre>{@code
 * for (NamedBackbone b : config.namedBackbones()) {
 *     System.out.println(b.tasksKey() + "=" + b.tasks().pattern() + (b.isImage() ? " (images)" : ""));
 * }
 * }</pre>
 *
 * @param name the name in {@code backbones}
 * @param tasks the task ids it embeds
 * @param text the text backbone to load, when its kind is text
 * @param image the image backbone to load, when its kind is image
 */
public record NamedBackbone(String name, Pattern tasks, Optional<BackboneSpec> text,
                            Optional<ImageBackboneSpec> image) {

    public NamedBackbone {
        Objects.requireNonNull(name, "name cannot be null");
        Objects.requireNonNull(tasks, "tasks cannot be null");
        if (text.isPresent() == image.isPresent()) {
            throw new IllegalArgumentException("a named backbone is either text or image: " + name);
        }
    }

    public static NamedBackbone text(String name, Pattern tasks, BackboneSpec spec) {
        return new NamedBackbone(name, tasks, Optional.of(spec), Optional.empty());
    }

    public static NamedBackbone image(String name, Pattern tasks, ImageBackboneSpec spec) {
        return new NamedBackbone(name, tasks, Optional.empty(), Optional.of(spec));
    }

    /** Whether it embeds images. */
    public boolean isImage() {
        return image.isPresent();
    }

    /** {@code backbone.<name>.tasks}, for messages. */
    public String tasksKey() {
        return ExtractorConfig.namedKey(name, ExtractorConfig.NAMED_TASKS);
    }
}
