package io.headwater.core;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/** The kinds of head a task can train; the name is what configs and model updates say. */
public enum HeadType {
    /** Streaming linear discriminant analysis, solved in closed form: see {@link LdaHead}. */
    LDA("lda", "headwater-core"),
    /**
     * A small network trained with Adam on micro-batches with replay, through deeplearning4j; it
     * lives in module {@code headwater-sgd} and is found through {@link HeadProvider}.
     */
    SGD("sgd", "headwater-sgd");

    private final String id;
    private final String module;

    HeadType(String id, String module) {
        this.id = id;
        this.module = module;
    }

    public String id() {
        return id;
    }

    /** A new, empty head of this type. */
    public Head create(int dimension, HeadOptions options) {
        return switch (this) {
            case LDA -> new LdaHead(dimension, options.ldaShrinkage(), options.solveEvery(), options.ldaForget());
            case SGD -> provider().create(dimension, options);
        };
    }

    /** Reads a head written by {@link Head#encode(ByteBuffer)}. */
    public Head decode(ByteBuffer buf) {
        return switch (this) {
            case LDA -> LdaHead.decode(buf);
            case SGD -> provider().decode(buf);
        };
    }

    /** Whether this type can be created here (its module is on the class path). */
    public boolean available() {
        return this == LDA || Providers.BY_TYPE.containsKey(this);
    }

    private HeadProvider provider() {
        HeadProvider p = Providers.BY_TYPE.get(this);
        if (p == null) {
            throw new ConfigException("head type " + id + " needs " + module + " on the class path");
        }
        return p;
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

    /** Providers found once, on first use (heads are decoded per task state, often). */
    private static final class Providers {
        static final Map<HeadType, HeadProvider> BY_TYPE = load();

        private static Map<HeadType, HeadProvider> load() {
            Map<HeadType, HeadProvider> found = new EnumMap<>(HeadType.class);
            for (HeadProvider p : ServiceLoader.load(HeadProvider.class, HeadProvider.class.getClassLoader())) {
                found.putIfAbsent(p.type(), p);
            }
            return found;
        }
    }
}
