package io.headwater.core;

import java.nio.ByteBuffer;

/**
 * Service-provider interface for head types whose implementation lives outside core (core has no
 * dependency on a neural-network library). A module that implements a head type lists its provider
 * in {@code META-INF/services/io.headwater.core.HeadProvider}; {@link HeadType#create} and
 * {@link HeadType#decode} find it through {@link java.util.ServiceLoader}.
 *
 * <pre>{@code
 * public final class SgdHeadProvider implements HeadProvider {
 *     public HeadType type() { return HeadType.SGD; }
 *     public Head create(int dimension, HeadOptions options) { return new SgdHead(dimension, options.sgd()); }
 *     public Head decode(ByteBuffer buf) { return SgdHead.decode(buf); }
 * }
 * }</pre>
 */
public interface HeadProvider {

    /** The head type this provider makes. */
    HeadType type();

    /** A new, empty head. */
    Head create(int dimension, HeadOptions options);

    /** Reads a head written by {@link Head#encode(ByteBuffer)}. */
    Head decode(ByteBuffer buf);
}
