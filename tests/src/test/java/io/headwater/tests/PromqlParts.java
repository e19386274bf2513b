package io.headwater.tests;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits an alert expression into the parts that must return data on a healthy system, the
 * convention documented in deploy/prometheus/rules.yml: split at top-level {@code or}, then
 * {@code and}/{@code unless} (dropping {@code on(...)}/{@code ignoring(...)}/{@code group_*}
 * modifiers), drop a top-level comparison with a number ({@code X > 0.05} becomes {@code X};
 * {@code bool} too), and unwrap {@code absent(X)} to {@code X}.
 *
 * <pre>{@code
 * PromqlParts.parts("rate(a_total[5m]) > 0 and on() sum(b) == 0")  // ["rate(a_total[5m])", "sum(b)"]
 * }</pre>
 */
final class PromqlParts {
    private static final List<List<String>> SET_OPERATORS = List.of(List.of("or"), List.of("and", "unless"));
    private static final List<String> COMPARISONS = List.of("==", "!=", ">=", "<=", ">", "<");
    private static final Pattern MODIFIER = Pattern.compile(
            "^\\s*(?:bool\\b|(?:on|ignoring|group_left|group_right)\\s*\\([^)]*\\)|group_left\\b|group_right\\b)\\s*");
    private static final Pattern NUMBER = Pattern.compile("^[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?$");
    private static final Pattern ABSENT = Pattern.compile("^absent(_over_time)?\\((.*)\\)$", Pattern.DOTALL);

    private PromqlParts() {
    }

    static List<String> parts(String expr) {
        String e = unwrap(expr.trim());
        for (List<String> ops : SET_OPERATORS) {
            List<String> split = splitAtWords(e, ops);
            if (split.size() > 1) {
                List<String> out = new ArrayList<>();
                split.forEach(p -> out.addAll(parts(stripModifiers(p))));
                return out;
            }
        }
        int[] cmp = comparison(e);
        if (cmp != null) {
            List<String> out = new ArrayList<>();
            for (String side : List.of(e.substring(0, cmp[0]), stripModifiers(e.substring(cmp[0] + cmp[1])))) {
                if (!NUMBER.matcher(side.trim()).matches()) {
                    out.addAll(parts(side));
                }
            }
            return out;
        }
        Matcher absent = ABSENT.matcher(e);
        if (absent.matches() && enclosing(e, e.indexOf('('))) {
            String inner = absent.group(2).trim();
            // absent_over_time(x[10m]) reads x
            return parts(absent.group(1) != null ? inner.replaceFirst("\\[[^\\]]*]\\s*$", "") : inner);
        }
        return List.of(e.replaceAll("\\s+", " "));
    }

    /** Removes parentheses that enclose the whole expression. */
    private static String unwrap(String e) {
        while (e.startsWith("(") && enclosing(e, 0)) {
            e = e.substring(1, e.length() - 1).trim();
        }
        return e;
    }

    /** Whether the bracket at {@code open} closes at the last character. */
    private static boolean enclosing(String e, int open) {
        int depth = 0;
        for (int i = open; i < e.length(); i++) {
            char c = e.charAt(i);
            if (c == '"') {
                i = skipString(e, i);
            } else if (c == '(' || c == '{' || c == '[') {
                depth++;
            } else if (c == ')' || c == '}' || c == ']') {
                depth--;
                if (depth == 0) {
                    return i == e.length() - 1;
                }
            }
        }
        return false;
    }

    private static String stripModifiers(String s) {
        String out = s;
        for (Matcher m = MODIFIER.matcher(out); m.find(); m = MODIFIER.matcher(out)) {
            out = out.substring(m.end());
        }
        return out.trim();
    }

    private static List<String> splitAtWords(String e, List<String> words) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int[] w = firstTopLevel(e, 0, i -> wordAt(e, i, words)); w != null;
                w = firstTopLevel(e, w[0] + w[1], i -> wordAt(e, i, words))) {
            out.add(e.substring(start, w[0]).trim());
            start = w[0] + w[1];
        }
        out.add(e.substring(start).trim());
        return out;
    }

    /** Length of the set operator word ({@code or}, ...) standing alone at {@code i} after the start, else 0. */
    private static int wordAt(String e, int i, List<String> words) {
        if (i == 0 || identifier(e.charAt(i - 1))) {
            return 0;
        }
        for (String w : words) {
            int end = i + w.length();
            if (e.startsWith(w, i) && end < e.length() && !identifier(e.charAt(end))) {
                return w.length();
            }
        }
        return 0;
    }

    /** The position and length of the first comparison operator outside brackets, or null. */
    private static int[] comparison(String e) {
        return firstTopLevel(e, 0, i -> {
            for (String op : COMPARISONS) {
                if (e.startsWith(op, i)) {
                    return op.length();
                }
            }
            return 0;
        });
    }

    /**
     * The first position at or after {@code from}, outside brackets and string literals, where
     * {@code match} gives a length above 0, with that length; null when there is none.
     */
    private static int[] firstTopLevel(String e, int from, java.util.function.IntUnaryOperator match) {
        int depth = 0;
        for (int i = from; i < e.length(); i++) {
            char c = e.charAt(i);
            if (c == '"') {
                i = skipString(e, i);
            } else if (c == '(' || c == '{' || c == '[') {
                depth++;
            } else if (c == ')' || c == '}' || c == ']') {
                depth--;
            } else if (depth == 0) {
                int length = match.applyAsInt(i);
                if (length > 0) {
                    return new int[] {i, length};
                }
            }
        }
        return null;
    }

    private static int skipString(String e, int open) {
        for (int i = open + 1; i < e.length(); i++) {
            if (e.charAt(i) == '\\') {
                i++;
            } else if (e.charAt(i) == '"') {
                return i;
            }
        }
        return e.length();
    }

    private static boolean identifier(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == ':';
    }
}
