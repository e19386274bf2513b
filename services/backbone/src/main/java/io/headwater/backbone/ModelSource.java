package io.headwater.backbone;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.headwater.core.ConfigException;
import io.headwater.core.FatalException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Everything {@link Backbone#load} needs to know about one model before it opens a session: its
 * id, checksum and settings, where its bytes come from (a classpath resource, read into memory, or
 * a file, which ONNX Runtime reads itself so that external data files beside it work) and how to
 * open its tokenizer. Both a {@link BundledModel} and a {@link UserModel} resolve to one.
 */
final class ModelSource {

    /** The op whose per-tensor scale makes a dynamically quantised graph's rows interact. */
    private static final byte[] DYNAMIC_QUANTIZE = "DynamicQuantizeLinear".getBytes(StandardCharsets.US_ASCII);
    private static final int CHUNK = 1 << 20;

    private final String id;
    private final String source;
    private final String sha256;
    private final boolean dynamicallyQuantized;
    private final PoolingMode pooling;
    private final boolean rowsInteract;
    private final TensorNames names;
    private final OptionalInt expectedDimension;
    private final String expectedDimensionSource;
    private final Optional<byte[]> bytes;
    private final Optional<Path> path;
    private final Optional<BundledModel> bundled;
    private final Optional<Path> tokenizerPath;

    private ModelSource(String id, String source, String sha256, boolean dynamicallyQuantized,
            PoolingMode pooling, boolean rowsInteract, TensorNames names, OptionalInt expectedDimension,
            String expectedDimensionSource, Optional<byte[]> bytes, Optional<Path> path,
            Optional<BundledModel> bundled, Optional<Path> tokenizerPath) {
        this.id = id;
        this.source = source;
        this.sha256 = sha256;
        this.dynamicallyQuantized = dynamicallyQuantized;
        this.pooling = pooling;
        this.rowsInteract = rowsInteract;
        this.names = names;
        this.expectedDimension = expectedDimension;
        this.expectedDimensionSource = expectedDimensionSource;
        this.bytes = bytes;
        this.path = path;
        this.bundled = bundled;
        this.tokenizerPath = tokenizerPath;
    }

    /** The model a spec asks for: its user model if present, else the bundled one it names. */
    static ModelSource of(BackboneSpec spec) {
        Objects.requireNonNull(spec, "spec cannot be null");
        return spec.userModel().isPresent()
                ? user(spec.userModel().get(), spec.dimension())
                : bundled(bundledModel(spec.name()), spec.dimension());
    }

    /**
     * A bundled model, read from the classpath.
     *
     * @throws ConfigException if {@code dimension} is present and not the model's
     */
    static ModelSource bundled(BundledModel model, OptionalInt dimension) {
        Objects.requireNonNull(model, "model cannot be null");
        if (dimension.isPresent() && dimension.getAsInt() != model.dimension()) {
            throw new ConfigException("backbone.dimension is " + dimension.getAsInt() + " but backbone "
                    + model.id() + " has dimension " + model.dimension());
        }
        byte[] bytes = readResource(model);
        return new ModelSource(model.id(), "classpath:" + model.modelResource(), hex(digest().digest(bytes)),
                contains(bytes, bytes.length, DYNAMIC_QUANTIZE), model.pooling(), model.rowsInteract(),
                model.names(), OptionalInt.of(model.dimension()),
                dimension.isPresent() ? "backbone.dimension is" : "backbone " + model.id() + " has dimension",
                Optional.of(bytes), Optional.empty(), Optional.of(model), Optional.empty());
    }

    /**
     * A model from files. Reads the model once to hash it and look for dynamic quantization.
     *
     * @throws ConfigException if either file is missing
     * @throws FatalException if the model cannot be read
     */
    static ModelSource user(UserModel model, OptionalInt dimension) {
        Objects.requireNonNull(model, "model cannot be null");
        Path modelPath = model.modelPath().toAbsolutePath().normalize();
        Path tokenizer = model.tokenizerPath().toAbsolutePath().normalize();
        requireFile(modelPath, "backbone.model.path");
        requireFile(tokenizer, "backbone.tokenizer.path");
        MessageDigest digest = digest();
        boolean quantized = false;
        // Scans in chunks, keeping the marker's length less one byte from the last chunk, so a
        // model larger than the heap can still be hashed.
        byte[] buffer = new byte[CHUNK + DYNAMIC_QUANTIZE.length];
        int kept = 0;
        try (InputStream in = Files.newInputStream(modelPath)) {
            for (int n = in.read(buffer, kept, CHUNK); n > 0; n = in.read(buffer, kept, CHUNK)) {
                digest.update(buffer, kept, n);
                int filled = kept + n;
                quantized = quantized || contains(buffer, filled, DYNAMIC_QUANTIZE);
                kept = Math.min(filled, DYNAMIC_QUANTIZE.length - 1);
                System.arraycopy(buffer, filled - kept, buffer, 0, kept);
            }
        } catch (IOException e) {
            throw new FatalException("Failed to read model " + modelPath, e);
        }
        return new ModelSource(model.id(), modelPath.toString(), hex(digest.digest()), quantized,
                model.pooling(), model.rowsInteract(), model.names(), dimension, "backbone.dimension is",
                Optional.empty(), Optional.of(modelPath), Optional.empty(), Optional.of(tokenizer));
    }

    /** Stable id, e.g. {@code all-minilm-l6-v2-q} or a model file's name. */
    String id() {
        return id;
    }

    /** Where the graph comes from, for messages: a file path or {@code classpath:/x.onnx}. */
    String source() {
        return source;
    }

    /** Lower-case hex SHA-256 of the graph's bytes. */
    String sha256() {
        return sha256;
    }

    /** Whether the graph has {@code DynamicQuantizeLinear} nodes (int8 with per-tensor scales). */
    boolean dynamicallyQuantized() {
        return dynamicallyQuantized;
    }

    PoolingMode pooling() {
        return pooling;
    }

    boolean rowsInteract() {
        return rowsInteract;
    }

    TensorNames names() {
        return names;
    }

    /** The width the output must have, if known before the model runs. */
    OptionalInt expectedDimension() {
        return expectedDimension;
    }

    /** Why that width is expected, to end a message: "backbone.dimension is" 384. */
    String expectedDimensionSource() {
        return expectedDimensionSource;
    }

    /** The bundled model this is, if it is one. */
    Optional<BundledModel> bundled() {
        return bundled;
    }

    /** Opens an ONNX Runtime session on the graph. */
    OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException {
        return bytes.isPresent()
                ? environment.createSession(bytes.get(), options)
                : environment.createSession(path.orElseThrow().toString(), options);
    }

    /** Opens the model's tokenizer. */
    TextTokenizer openTokenizer(int maxTokens) {
        if (bundled.isPresent()) {
            return TextTokenizer.bundled(bundled.get(), maxTokens);
        }
        Path file = tokenizerPath.orElseThrow();
        try (InputStream json = Files.newInputStream(file)) {
            // Padded positions have mask 0, so with right padding the pad id never reaches a real
            // token's output: 0 ([PAD] in BERT vocabularies) is as good as any.
            return TextTokenizer.fromJson(json, file.toString(), maxTokens, 0L);
        } catch (IOException e) {
            throw new FatalException("Failed to read tokenizer " + file, e);
        }
    }

    private static BundledModel bundledModel(String name) {
        return BundledModel.byName(name)
                .orElseThrow(() -> new ConfigException("backbone.name must be one of ["
                        + BundledModel.knownNames() + "], found '" + name
                        + "' (or set backbone.model.path to load an ONNX file)"));
    }

    private static void requireFile(Path file, String key) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException(key + " " + file + " is not a readable file");
        }
    }

    private static byte[] readResource(BundledModel model) {
        String resource = model.modelResource();
        try (InputStream in = ModelSource.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new FatalException("Model resource " + resource + " of backbone " + model.id()
                        + " is not on the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new FatalException("Failed to read model resource " + resource + " of backbone "
                    + model.id(), e);
        }
    }

    /** Whether {@code needle} occurs in the first {@code length} bytes of {@code haystack}. */
    static boolean contains(byte[] haystack, int length, byte[] needle) {
        outer:
        for (int i = 0; i <= length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new FatalException("Failed to compute SHA-256: the JVM has no SHA-256 digest", e);
        }
    }

    private static String hex(byte[] hash) {
        return HexFormat.of().formatHex(hash);
    }
}
