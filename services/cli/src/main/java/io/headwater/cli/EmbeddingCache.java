package io.headwater.cli;

import io.headwater.backbone.Backbone;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Embeds a list of texts once for {@code headwater evaluate}: each distinct text is run through the
 * backbone once, and the whole list's vectors can be kept in one file keyed by the SHA-256 of the
 * backbone's SHA-256, its token limit and every text, so a rerun on the same data skips the
 * backbone.
 */
final class EmbeddingCache {
    private static final int CHUNK = 256;

    private EmbeddingCache() {
    }

    /**
     * The vectors of {@code texts} in order, read from {@code dir} when a file for exactly these
     * texts and this backbone is there, else embedded (and written there when {@code dir} is present).
     * {@code progress} gets a line now and then.
     */
    static float[][] embed(Backbone backbone, List<String> texts, Optional<Path> dir, Consumer<String> progress) {
        Optional<Path> file = dir.map(d -> d.resolve(key(backbone, texts) + ".f32"));
        if (file.isPresent() && Files.isRegularFile(file.get())) {
            Optional<float[][]> cached = read(file.get(), texts.size(), backbone.dimension());
            if (cached.isPresent()) {
                progress.accept("Read " + texts.size() + " embeddings from " + file.get());
                return cached.get();
            }
        }
        Map<String, Integer> distinct = new LinkedHashMap<>();
        texts.forEach(t -> distinct.putIfAbsent(t, distinct.size()));
        List<String> unique = new ArrayList<>(distinct.keySet());
        float[][] vectors = new float[unique.size()][];
        long start = System.nanoTime();
        long nextReport = start;
        for (int from = 0; from < unique.size(); from += CHUNK) {
            int to = Math.min(unique.size(), from + CHUNK);
            float[][] chunk = backbone.embed(unique.subList(from, to));
            System.arraycopy(chunk, 0, vectors, from, chunk.length);
            if (System.nanoTime() >= nextReport || to == unique.size()) {
                double s = (System.nanoTime() - start) / 1e9;
                progress.accept(String.format("embedded %d of %d distinct texts (%.0f texts/s)", to, unique.size(),
                        to / Math.max(s, 1e-9)));
                nextReport = System.nanoTime() + 10_000_000_000L;
            }
        }
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            out[i] = vectors[distinct.get(texts.get(i))];
        }
        file.ifPresent(f -> write(f, out));
        return out;
    }

    static String key(Backbone backbone, List<String> texts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((backbone.sha256() + "\0" + backbone.spec().maxTokens() + "\0").getBytes(StandardCharsets.UTF_8));
            for (String t : texts) {
                sha.update(t.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static Optional<float[][]> read(Path file, int n, int dim) {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != n || in.readInt() != dim) {
                return Optional.empty();
            }
            float[][] out = new float[n][dim];
            for (float[] v : out) {
                for (int j = 0; j < dim; j++) {
                    v[j] = in.readFloat();
                }
            }
            return Optional.of(out);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static void write(Path file, float[][] vectors) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
                out.writeInt(vectors.length);
                out.writeInt(vectors.length == 0 ? 0 : vectors[0].length);
                for (float[] v : vectors) {
                    for (float f : v) {
                        out.writeFloat(f);
                    }
                }
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the embedding cache " + file, e);
        }
    }
}
