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

/**
 * One ONNX graph's bytes and identity, text or image: its id, SHA-256, whether it is dynamically
 * int8-quantised, and where a session reads it from (a classpath resource, read into memory, or a
 * file, which ONNX Runtime reads itself so that external data files beside it work).
 */
final class OnnxFile implements Sessions.Graph {

    /** The op whose per-tensor scale makes a dynamically quantised graph's rows interact. */
    private static final byte[] DYNAMIC_QUANTIZE = "DynamicQuantizeLinear".getBytes(StandardCharsets.US_ASCII);
    private static final int CHUNK = 1 << 20;

    private final String id;
    private final String source;
    private final String sha256;
    private final boolean dynamicallyQuantized;
    private final Optional<byte[]> bytes;
    private final Optional<Path> path;
    private final String gpuAdvice;

    private OnnxFile(String id, String source, String sha256, boolean dynamicallyQuantized, Optional<byte[]> bytes,
            Optional<Path> path, String gpuAdvice) {
        this.id = id;
        this.source = source;
        this.sha256 = sha256;
        this.dynamicallyQuantized = dynamicallyQuantized;
        this.bytes = bytes;
        this.path = path;
        this.gpuAdvice = gpuAdvice;
    }

    /**
     * A bundled graph, read from the classpath.
     *
     * @throws FatalException if the resource is missing or unreadable
     */
    static OnnxFile resource(String id, String resource, String gpuAdvice) {
        Objects.requireNonNull(resource, "resource cannot be null");
        byte[] bytes;
        try (InputStream in = OnnxFile.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new FatalException("Model resource " + resource + " of backbone " + id
                        + " is not on the classpath");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new FatalException("Failed to read model resource " + resource + " of backbone " + id, e);
        }
        return new OnnxFile(id, "classpath:" + resource, hex(digest().digest(bytes)),
                contains(bytes, bytes.length, DYNAMIC_QUANTIZE), Optional.of(bytes), Optional.empty(), gpuAdvice);
    }

    /**
     * A graph in a file. Reads it once to hash it and look for dynamic quantization, in chunks, so
     * a model larger than the heap can still be hashed.
     *
     * @param key the config key that named the file, for the message when it is missing
     * @throws ConfigException if the file is missing or unreadable
     * @throws FatalException if reading it fails
     */
    static OnnxFile file(String id, Path file, String key, String gpuAdvice) {
        Path modelPath = file.toAbsolutePath().normalize();
        requireFile(modelPath, key);
        MessageDigest digest = digest();
        boolean quantized = false;
        // Keeps the marker's length less one byte from the last chunk, so a marker split across
        // two chunks is still found.
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
        return new OnnxFile(id, modelPath.toString(), hex(digest.digest()), quantized, Optional.empty(),
                Optional.of(modelPath), gpuAdvice);
    }

    /** Throws a {@link ConfigException} naming {@code key} unless {@code file} is a readable file. */
    static void requireFile(Path file, String key) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException(key + " " + file + " is not a readable file");
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public String describe() {
        return bytes.isPresent() ? "backbone " + id : "model " + source;
    }

    @Override
    public boolean dynamicallyQuantized() {
        return dynamicallyQuantized;
    }

    @Override
    public String gpuAdvice() {
        return gpuAdvice;
    }

    /** Lower-case hex SHA-256 of the graph's bytes. */
    String sha256() {
        return sha256;
    }

    @Override
    public OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options)
            throws OrtException {
        return bytes.isPresent()
                ? environment.createSession(bytes.get(), options)
                : environment.createSession(path.orElseThrow().toString(), options);
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
