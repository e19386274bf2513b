package io.headwater.registry;

import io.headwater.core.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * When a candidate may become a task's next version. The first version of a task needs
 * {@code firstMinExamples} learned examples; every later one needs at least {@code minWindow}
 * test-then-train predictions in its window, a windowed accuracy of at least {@code floor}, and no
 * more than {@code margin} below the current version's when it is of the current version's head
 * type, where the margin is widened to {@code noiseZ} standard errors of the difference of the two
 * windows' accuracies when that is larger. Two windows are different examples: with 500
 * predictions at 0.77 the difference of two equally good heads has a standard error of 0.027, so a
 * fixed margin of 0.02 alone would reject a quarter of them, and after one lucky window nearly all. A challenger (another head type) must be at least as good as the current version: the
 * margin forgives the noise of one head's successive windows, not a switch to a worse head.
 *
 * @param margin           how much worse than the current version a candidate may be, in accuracy
 * @param minWindow        predictions the candidate's window must hold
 * @param floor            lowest windowed accuracy ever published
 * @param firstMinExamples examples the first version of a task must have learned
 * @param noiseZ           standard errors of the windows' difference the margin is at least; 0 for none
 */
record GatePolicy(double margin, int minWindow, double floor, long firstMinExamples, double noiseZ) {
    static final String PREFIX = "registry.policy.";

    /** The first rule of the check that fails, or null when the candidate passes. */
    String check(long examples, double accuracy, int windowCount, Double currentAccuracy, int currentWindow,
                 boolean challenger) {
        if (currentAccuracy == null && examples < firstMinExamples) {
            return "min_examples: first version needs " + firstMinExamples + " examples, candidate has " + examples;
        }
        if (currentAccuracy != null && windowCount < minWindow) {
            return "min_examples: window holds " + windowCount + " predictions, gate needs " + minWindow;
        }
        if (accuracy < floor) {
            return String.format("floor: windowed accuracy %.4f is below the floor %.4f", accuracy, floor);
        }
        if (currentAccuracy != null && challenger && accuracy < currentAccuracy) {
            return String.format("gate: challenger's windowed accuracy %.4f does not reach the current version's %.4f",
                    accuracy, currentAccuracy);
        }
        if (currentAccuracy != null) {
            double noise = noiseZ * Math.sqrt(accuracy * (1 - accuracy) / Math.max(1, windowCount)
                    + currentAccuracy * (1 - currentAccuracy) / Math.max(1, currentWindow));
            double allowed = Math.max(margin, noise);
            if (accuracy < currentAccuracy - allowed) {
                return String.format("gate: windowed accuracy %.4f is worse than the current version's %.4f by more than %.4f",
                        accuracy, currentAccuracy, allowed);
            }
        }
        return null;
    }

    /**
     * The default policy plus overrides per task pattern, from keys
     * {@code registry.policy.<glob>.<margin|min.window|floor|first.min.examples>}. The first pattern
     * (in the order of the keys' first appearance, most specific first is the user's job) that
     * matches a task wins; {@code *} in a glob matches any run of characters.
     */
    record Book(GatePolicy defaults, List<Map.Entry<Pattern, GatePolicy>> overrides) {
        GatePolicy forTask(String task) {
            for (Map.Entry<Pattern, GatePolicy> e : overrides) {
                if (e.getKey().matcher(task).matches()) {
                    return e.getValue();
                }
            }
            return defaults;
        }

        static Book parse(GatePolicy defaults, Map<String, ?> originals) {
            Map<String, Map<String, String>> byGlob = new LinkedHashMap<>();
            for (Map.Entry<String, ?> e : new java.util.TreeMap<>(originals).entrySet()) {
                if (!e.getKey().startsWith(PREFIX)) {
                    continue;
                }
                String rest = e.getKey().substring(PREFIX.length());
                String field = null;
                for (String f : List.of("first.min.examples", "min.window", "margin", "floor")) {
                    if (rest.endsWith("." + f)) {
                        field = f;
                        break;
                    }
                }
                if (field == null || rest.length() == field.length() + 1) {
                    throw new ConfigException("unknown registry policy key '" + e.getKey()
                            + "': use registry.policy.<task glob>.<margin|min.window|floor|first.min.examples>");
                }
                String glob = rest.substring(0, rest.length() - field.length() - 1);
                byGlob.computeIfAbsent(glob, g -> new LinkedHashMap<>()).put(field, String.valueOf(e.getValue()));
            }
            List<Map.Entry<Pattern, GatePolicy>> out = new ArrayList<>();
            byGlob.forEach((glob, fields) -> out.add(Map.entry(glob(glob), new GatePolicy(
                    number(glob, fields, "margin", defaults.margin(), 0, 1),
                    (int) number(glob, fields, "min.window", defaults.minWindow(), 0, Integer.MAX_VALUE),
                    number(glob, fields, "floor", defaults.floor(), 0, 1),
                    (long) number(glob, fields, "first.min.examples", defaults.firstMinExamples(), 1, Long.MAX_VALUE),
                    defaults.noiseZ()))));
            return new Book(defaults, out);
        }

        private static double number(String glob, Map<String, String> fields, String field, double fallback,
                                     double min, double max) {
            String v = fields.get(field);
            if (v == null) {
                return fallback;
            }
            String key = PREFIX + glob + "." + field;
            double d;
            try {
                d = Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw new ConfigException("Invalid value " + v + " for configuration " + key + ": not a number");
            }
            if (!(d >= min && d <= max)) {
                throw new ConfigException("Invalid value " + v + " for configuration " + key + ": must be in ["
                        + min + ", " + max + "]");
            }
            return d;
        }

        private static Pattern glob(String glob) {
            return Pattern.compile(java.util.Arrays.stream(glob.split("\\*", -1)).map(Pattern::quote)
                    .collect(java.util.stream.Collectors.joining(".*")));
        }
    }
}
