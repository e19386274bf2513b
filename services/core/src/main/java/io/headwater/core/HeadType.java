package io.headwater.core;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The kinds of head a task can train; the name is what configs and model updates say. */
public enum HeadType {
    /** Streaming linear discriminant analysis, solved in closed form: see {@link LdaHead}. */
    LDA("lda");

    private final String id;

    HeadType(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** A new, empty head of this type. */
    public Head create(int dimension, HeadOptions options) {
        return switch (this) {
            case LDA -> new LdaHead(dimension, options.ldaShrinkage(), options.solveEvery());
        };
    }

    /** Reads a head written by {@link Head#encode(ByteBuffer)}. */
    public Head decode(ByteBuffer buf) {
        return switch (this) {
            case LDA -> LdaHead.decode(buf);
        };
    }

    /** The type with the given id; an unknown id gives a {@link ConfigException} listing the known ones. */
    public static HeadType of(String id) {
        for (HeadType t : values()) {
            if (t.id.equals(id.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new ConfigException("unknown head type '" + id + "', known: "
                + Arrays.stream(values()).map(HeadType::id).collect(Collectors.joining(", ")));
    }
}
