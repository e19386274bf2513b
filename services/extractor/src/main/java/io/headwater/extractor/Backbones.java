package io.headwater.extractor;

import io.headwater.backbone.Backbone;
import io.headwater.backbone.Embedder;
import io.headwater.backbone.ImageBackbone;
import io.headwater.core.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Every backbone the extractor's config asks for, loaded: the default text backbone, the image
 * backbone when {@code backbone.image.tasks} is set, and each named backbone of {@code backbones}.
 * Closing it closes them all.
 *
 * <pre>{@code
 * try (Backbones backbones = Backbones.load(config);
 *      Extractor extractor = new Extractor(config, backbones, registry)) {
 *     new Thread(extractor).start();
 * }
 * }</pre>
 */
public final class Backbones implements AutoCloseable {
    private final Backbone text;
    private final Optional<ImageBackbone> image;
    private final Map<String, Embedder> named;

    private Backbones(Backbone text, Optional<ImageBackbone> image, Map<String, Embedder> named) {
        this.text = Objects.requireNonNull(text, "text cannot be null");
        this.image = Objects.requireNonNull(image, "image cannot be null");
        this.named = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(named));
    }

    /** Backbones loaded elsewhere, without named ones. */
    public static Backbones of(Backbone text, Optional<ImageBackbone> image) {
        return new Backbones(text, image, Map.of());
    }

    /** Backbones loaded elsewhere, the named ones by name in {@code backbones} order. */
    public static Backbones of(Backbone text, Optional<ImageBackbone> image, Map<String, Embedder> named) {
        return new Backbones(text, image, named);
    }

    /**
     * Loads every backbone {@code config} names; if one fails to load, those already loaded are
     * closed before the failure is thrown.
     *
     * @throws io.headwater.core.ConfigException for a bad setting, naming key and value
     */
    public static Backbones load(ExtractorConfig config) {
        return load(config, new ArrayList<>());
    }

    /**
     * {@link #load(ExtractorConfig)}, adding each backbone to {@code loaded} as it loads (a test
     * sees which were closed after a failure).
     */
    static Backbones load(ExtractorConfig config, List<Embedder> loaded) {
        // Settings are checked before any model loads: a bad one fails start-up at once.
        List<NamedBackbone> namedConfig = config.namedBackbones();
        boolean withImage = config.imageTasks().isPresent();
        try {
            Backbone text = Backbone.load(config.backboneSpec());
            loaded.add(text);
            Optional<ImageBackbone> image = Optional.empty();
            if (withImage) {
                image = Optional.of(ImageBackbone.load(config.imageBackboneSpec()));
                loaded.add(image.get());
            }
            Map<String, Embedder> named = new LinkedHashMap<>();
            for (NamedBackbone n : namedConfig) {
                Embedder e;
                try {
                    e = n.isImage() ? ImageBackbone.load(n.image().orElseThrow())
                            : Backbone.load(n.text().orElseThrow());
                } catch (ConfigException bad) {
                    throw ExtractorConfig.renamedKeys(n.name(), n.isImage(), bad);
                }
                loaded.add(e);
                named.put(n.name(), e);
            }
            return new Backbones(text, image, named);
        } catch (RuntimeException e) {
            for (Embedder b : loaded) {
                b.close();
            }
            throw e;
        }
    }

    /** The default text backbone ({@code backbone.*}). */
    public Backbone text() {
        return text;
    }

    /**
     * One backbone with a tasks pattern, as routing tries them.
     *
     * @param name the name in {@code backbones}, or {@code image} for {@code backbone.image.*}
     * @param tasksKey the key of the pattern: {@code backbone.bge.tasks}, {@code backbone.image.tasks}
     */
    public record Route(String name, String tasksKey, Pattern tasks, Embedder backbone) {
        /** Whether it embeds images. */
        public boolean images() {
            return backbone instanceof ImageBackbone;
        }

        /** {@code backbone.bge.tasks=bge-.*}, for messages. */
        public String rule() {
            return tasksKey + "=" + tasks.pattern();
        }
    }

    /**
     * The backbones with a tasks pattern in the order a task is matched against them: the named
     * ones in {@code backbones} order, then the image backbone. A task none matches goes to
     * {@link #text()}. The extractor and serving both route by this list.
     */
    public List<Route> routes(ExtractorConfig config) {
        List<Route> routes = new ArrayList<>();
        for (NamedBackbone n : config.namedBackbones()) {
            routes.add(new Route(n.name(), n.tasksKey(), n.tasks(), named.get(n.name())));
        }
        image.ifPresent(b -> routes.add(new Route(Lane.IMAGE, ExtractorConfig.IMAGE_TASKS,
                config.imageTasks().orElseThrow(), b)));
        return routes;
    }

    /** The image backbone ({@code backbone.image.*}), when {@code backbone.image.tasks} is set. */
    public Optional<ImageBackbone> image() {
        return image;
    }

    /** The named backbones by name, in {@code backbones} order. */
    public Map<String, Embedder> named() {
        return named;
    }

    @Override
    public void close() {
        text.close();
        image.ifPresent(ImageBackbone::close);
        named.values().forEach(Embedder::close);
    }
}
