package io.headwater.extractor;

import io.headwater.kafka.Example;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which backbone embeds a task's examples: the first lane whose tasks pattern matches the task id
 * (named backbones in {@code backbones} order, then {@code backbone.image.tasks}), else the default
 * text backbone. Each task's decision is made once and kept, so a record costs one map lookup
 * however many patterns there are. Not thread-safe: the extractor routes on its consumer thread.
 *
 * <pre>{@code
 * Routing routing = new Routing(List.of(bgeLane, imageLane), defaultLane);
 * Lane lane = routing.route("bge-news");
 * Optional<String> wrong = routing.mismatch("bge-news", lane, example.input());
 * }</pre>
 */
final class Routing {
    private final List<Lane> rules;
    private final Lane fallback;
    private final Map<String, Lane> decided = new HashMap<>();

    /**
     * @param rules lanes with a tasks pattern, in the order they are tried
     * @param fallback the default text lane, for tasks no rule matches
     */
    Routing(List<Lane> rules, Lane fallback) {
        this.rules = List.copyOf(rules);
        this.fallback = Objects.requireNonNull(fallback, "fallback cannot be null");
        for (Lane l : this.rules) {
            if (l.tasks().isEmpty()) {
                throw new IllegalArgumentException("lane " + l.name() + " has no tasks pattern");
            }
        }
    }

    /** Every lane: the rules in order, then the default. */
    List<Lane> lanes() {
        List<Lane> all = new ArrayList<>(rules);
        all.add(fallback);
        return all;
    }

    /** The lane that embeds {@code task}'s examples. */
    Lane route(String task) {
        Lane lane = decided.get(task);
        if (lane == null) {
            lane = decide(task);
            decided.put(task, lane);
        }
        return lane;
    }

    /** How many tasks have a kept decision. */
    int tasksDecided() {
        return decided.size();
    }

    private Lane decide(String task) {
        for (Lane l : rules) {
            if (l.tasks().orElseThrow().matcher(task).matches()) {
                return l;
            }
        }
        return fallback;
    }

    /**
     * Why {@code input} cannot go to {@code lane}, the lane of {@code task}: a text for an image
     * backbone or an image for a text one. Empty when it fits (vectors always fit here; their width
     * is checked by the caller).
     */
    Optional<String> mismatch(String task, Lane lane, Example.Input input) {
        if (lane.images() && input instanceof Example.Text) {
            return Optional.of("task '" + task + "' takes images (" + lane.rule() + "): send \"image\" or a "
                    + "\"vector\" of image backbone " + lane.backbone().id() + "'s " + lane.backbone().dimension()
                    + " values, not \"text\"");
        }
        if (!lane.images() && input instanceof Example.Image) {
            if (lane != fallback) {
                return Optional.of("task '" + task + "' takes texts: it matches " + lane.rule() + " (text backbone "
                        + lane.backbone().id() + "), so it cannot take \"image\"");
            }
            List<String> imageRules = rules.stream().filter(Lane::images).map(Lane::rule).toList();
            return Optional.of("task '" + task + "' takes texts: " + (imageRules.isEmpty()
                    ? "no image backbone is configured (" + ExtractorConfig.IMAGE_TASKS + " is empty"
                            + (rules.isEmpty() ? "" : " and no backbone in " + ExtractorConfig.BACKBONES
                                    + " has kind image") + ")"
                    : "it does not match " + String.join(" or ", imageRules)) + ", so it cannot take \"image\"");
        }
        return Optional.empty();
    }
}
