package io.headwater.backbone;

/**
 * What every frozen backbone has in common, text ({@link Backbone}) or image
 * ({@link ImageBackbone}): an identity that heads are built for, a vector width, and where it
 * runs. Inputs differ by kind, so embedding is on the concrete types.
 *
 * <pre>{@code
 * Embedder e = imageBackbone;
 * String expects = e.id() + "@" + e.sha256();   // what a head built on it records
 * }</pre>
 */
public interface Embedder extends AutoCloseable {
    /** Stable id, e.g. {@code all-minilm-l6-v2-q} or {@code fashion-cnn}. */
    String id();

    /** Lower-case hex SHA-256 of the ONNX graph's bytes. */
    String sha256();

    /** Width of every vector it returns. */
    int dimension();

    /** Where it runs: {@code "cpu"} or {@code "cuda:<device>"}. */
    String provider();

    /** ONNX Runtime session runs so far. */
    long calls();

    /** Releases the session; idempotent, never throws. */
    @Override
    void close();
}
