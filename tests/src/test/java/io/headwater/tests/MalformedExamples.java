package io.headwater.tests;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The examples producers get wrong, one of each kind: broken JSON, wrong types, missing and extra
 * fields, empty and multi-megabyte texts, invalid UTF-8, non-finite and mis-sized vectors, absurd
 * task names and keys. Each says which dead-letter reason the extractor must give it and a piece of
 * the reason text.
 *
 * @see FaultCorpusIT
 */
final class MalformedExamples {
    /**
     * @param name   what is wrong, for assertion messages
     * @param key    the record key; empty for none
     * @param value  the record value; null for a tombstone
     * @param reason the dead-letter reason (headwater.error) it must get
     * @param says   a piece of the reason text (headwater.reason)
     */
    record Case(String name, Optional<byte[]> key, byte[] value, String reason, String says) {
    }

    private MalformedExamples() {
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A valid example's JSON with one field's raw JSON replaced (null value removes the field). */
    static String example(String task, String id, String field, String rawJson) {
        StringBuilder b = new StringBuilder("{");
        String[][] fields = {{"id", "\"" + id + "\""}, {"task", "\"" + task + "\""}, {"text", "\"a fine text\""},
            {"label", "\"ham\""}};
        for (String[] f : fields) {
            String v = f[0].equals(field) ? rawJson : f[1];
            if (v != null) {
                b.append(b.length() > 1 ? "," : "").append('"').append(f[0]).append("\":").append(v);
            }
        }
        if (!List.of("id", "task", "text", "label").contains(field) && rawJson != null) {
            b.append(",\"").append(field).append("\":").append(rawJson);
        }
        return b.append('}').toString();
    }

    static String vector(int n, String value) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            b.append(i > 0 ? "," : "").append(i == n / 2 ? value : "0.01");
        }
        return b.append(']').toString();
    }

    static String longString(int chars) {
        return "\"" + "x".repeat(chars) + "\"";
    }

    /** At least 50 distinct malformed examples of task {@code task}, keyed by it unless the case is about keys. */
    static List<Case> of(String task, int dimension) {
        List<Case> c = new ArrayList<>();
        Optional<byte[]> key = Optional.of(utf8(task));
        // Not JSON, or not an object
        c.add(new Case("unterminated string", key, utf8("{\"id\": \"j1\", \"task\": \"" + task + "\", \"text\": \"unterm"),
                "json", "not valid JSON"));
        c.add(new Case("truncated object", key, utf8("{\"id\": \"j2\", \"task\":"), "json", "not valid JSON"));
        c.add(new Case("plain text", key, utf8("hello, this is not JSON"), "json", "not valid JSON"));
        c.add(new Case("JSON array", key, utf8("[1, 2, 3]"), "schema", "does not match"));
        c.add(new Case("JSON number", key, utf8("42"), "schema", "does not match"));
        c.add(new Case("JSON string", key, utf8("\"an example\""), "schema", "does not match"));
        c.add(new Case("JSON null", key, utf8("null"), "schema", "does not match"));
        c.add(new Case("empty value", key, new byte[0], "json", "empty value"));
        c.add(new Case("tombstone", key, null, "empty", "no value"));
        c.add(new Case("whitespace only", key, utf8("   \n\t "), "json", "not valid JSON"));
        c.add(new Case("invalid UTF-8 in text", key, concat(utf8("{\"id\":\"u1\",\"task\":\"" + task + "\",\"text\":\"a"),
                new byte[] {(byte) 0xC3, 0x28}, utf8("\",\"label\":\"ham\"}")), "json", "UTF-8"));
        c.add(new Case("invalid UTF-8 start byte", key, concat(utf8("{\"id\":\""), new byte[] {(byte) 0xFF, (byte) 0xFE},
                utf8("\",\"task\":\"" + task + "\",\"text\":\"a\",\"label\":\"ham\"}")), "json", "UTF-8"));
        c.add(new Case("binary garbage", key, new byte[] {0, 1, 2, 3, (byte) 0x80, (byte) 0x90, 0x7f}, "json",
                "not valid JSON"));
        c.add(new Case("nested 5000 deep", key, utf8("[".repeat(5000) + "]".repeat(5000)), "json", "nesting depth"));
        c.add(new Case("5000-digit number", key, utf8(example(task, "n1", "label", "1" + "0".repeat(5000))), "json",
                "Number value length"));
        // Missing fields
        c.add(new Case("no id", key, utf8(example(task, "x", "id", null)), "schema", "id"));
        c.add(new Case("no task", key, utf8(example(task, "m2", "task", null)), "schema", "task"));
        c.add(new Case("no label", key, utf8(example(task, "m3", "label", null)), "schema", "label"));
        c.add(new Case("no text nor vector", key, utf8(example(task, "m4", "text", null)), "schema", "does not match"));
        c.add(new Case("text and vector", key, utf8(example(task, "m5", "vector", vector(dimension, "0.5"))), "schema",
                "does not match"));
        c.add(new Case("empty object", key, utf8("{}"), "schema", "does not match"));
        // Wrong types and sizes
        c.add(new Case("empty id", key, utf8(example(task, "", "label", "\"ham\"")), "schema", "id"));
        c.add(new Case("id of 257 characters", key, utf8(example(task, "i".repeat(257), "label", "\"ham\"")), "schema",
                "id"));
        c.add(new Case("numeric id", key, utf8(example(task, "x", "id", "12")), "schema", "id"));
        c.add(new Case("object id", key, utf8(example(task, "x", "id", "{\"a\":1}")), "schema", "id"));
        c.add(new Case("numeric task", key, utf8(example(task, "t1", "task", "5")), "schema", "task"));
        c.add(new Case("empty label", key, utf8(example(task, "l1", "label", "\"\"")), "schema", "label"));
        c.add(new Case("numeric label", key, utf8(example(task, "l2", "label", "7")), "schema", "label"));
        c.add(new Case("null label", key, utf8(example(task, "l3", "label", "null")), "schema", "label"));
        c.add(new Case("array label", key, utf8(example(task, "l4", "label", "[\"ham\"]")), "schema", "label"));
        c.add(new Case("label of 257 characters", key, utf8(example(task, "l5", "label", longString(257))), "schema",
                "label"));
        c.add(new Case("empty text", key, utf8(example(task, "x1", "text", "\"\"")), "schema", "text"));
        c.add(new Case("numeric text", key, utf8(example(task, "x2", "text", "3.14")), "schema", "text"));
        c.add(new Case("null text", key, utf8(example(task, "x3", "text", "null")), "schema", "text"));
        c.add(new Case("object text", key, utf8(example(task, "x4", "text", "{\"t\":\"a\"}")), "schema", "text"));
        c.add(new Case("text of 100,001 characters", key, utf8(example(task, "x5", "text", longString(100_001))),
                "schema", "text"));
        c.add(new Case("text of 900 KB", key, utf8(example(task, "x6", "text", longString(900_000))), "schema", "text"));
        c.add(new Case("text of 2 MB", key, utf8(example(task, "x7", "text", longString(2_000_000))), "schema", "text"));
        c.add(new Case("text of 5 MB", key, utf8(example(task, "x8", "text", longString(5_000_000))), "schema", "text"));
        c.add(new Case("bad eventTime string", key, utf8(example(task, "e1", "eventTime", "\"yesterday\"")), "schema",
                "eventTime"));
        c.add(new Case("negative eventTime", key, utf8(example(task, "e2", "eventTime", "-5")), "schema", "eventTime"));
        c.add(new Case("boolean eventTime", key, utf8(example(task, "e3", "eventTime", "true")), "schema", "eventTime"));
        // Vectors
        String noText = "\"text\":\"a fine text\",";
        c.add(new Case("empty vector", key, utf8(example(task, "v1", "vector", "[]").replace(noText, "")), "schema",
                "vector"));
        c.add(new Case("vector of strings", key, utf8(example(task, "v2", "vector", "[\"a\",\"b\"]").replace(noText, "")),
                "schema", "vector"));
        c.add(new Case("vector with null", key, utf8(example(task, "v3", "vector", vector(dimension, "null"))
                .replace(noText, "")), "schema", "vector"));
        c.add(new Case("vector overflowing to +infinity", key, utf8(example(task, "v4", "vector",
                vector(dimension, "1e39")).replace(noText, "")), "vector", "not a finite 32-bit float"));
        c.add(new Case("vector overflowing to -infinity", key, utf8(example(task, "v5", "vector",
                vector(dimension, "-3.5e38")).replace(noText, "")), "vector", "not a finite 32-bit float"));
        c.add(new Case("vector value beyond 1e9", key, utf8(example(task, "v10", "vector",
                vector(dimension, "2e9")).replace(noText, "")), "vector", "beyond"));
        c.add(new Case("vector too short", key, utf8(example(task, "v6", "vector", vector(10, "0.5"))
                .replace(noText, "")), "vector", "has 10 values"));
        c.add(new Case("vector one too long", key, utf8(example(task, "v7", "vector", vector(dimension + 1, "0.5"))
                .replace(noText, "")), "vector", "has " + (dimension + 1) + " values"));
        c.add(new Case("vector of 8193", key, utf8(example(task, "v8", "vector", vector(8193, "0.5"))
                .replace(noText, "")), "schema", "vector"));
        c.add(new Case("nested vector", key, utf8(example(task, "v9", "vector", "[[0.1],[0.2]]").replace(noText, "")),
                "schema", "vector"));
        // Absurd task names and keys
        c.add(new Case("empty task", key, utf8(example(task, "t2", "task", "\"\"")), "schema", "task"));
        c.add(new Case("task with a space", key, utf8(example(task, "t3", "task", "\"my task\"")), "schema", "task"));
        c.add(new Case("task of 129 characters", key, utf8(example(task, "t4", "task", longString(129))), "schema",
                "task"));
        c.add(new Case("task with a path", key, utf8(example(task, "t5", "task", "\"../../etc/passwd\"")), "schema",
                "task"));
        c.add(new Case("task with unicode", key, utf8(example(task, "t6", "task", "\"t\u00e2che\"")), "schema", "task"));
        c.add(new Case("task with a control character", key, utf8(example(task, "t7", "task", "\"a\\u0000b\"")),
                "schema", "task"));
        c.add(new Case("key of another task", Optional.of(utf8("some-other-task")),
                utf8(example(task, "k1", "label", "\"ham\"")), "key", "does not match task"));
        c.add(new Case("key of 10 KB", Optional.of(utf8("k".repeat(10_000))), utf8(example(task, "k2", "label", "\"ham\"")),
                "key", "does not match task"));
        c.add(new Case("key of invalid UTF-8", Optional.of(new byte[] {(byte) 0xC3, 0x28}),
                utf8(example(task, "k3", "label", "\"ham\"")), "key", "does not match task"));
        return c;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
