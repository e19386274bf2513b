package io.headwater.core.evaluation;

import io.headwater.core.Head;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadType;
import java.util.Arrays;
import java.util.List;

/**
 * A head type with the options it runs with, under the name the evaluation reports it by (e.g.
 * {@code sgd} and {@code sgd-no-replay}).
 */
public record HeadVariant(String name, HeadType type, HeadOptions options) {

    /** Every head type available here (its module on the class path) with {@code options}, named by its id. */
    public static List<HeadVariant> everyType(HeadOptions options) {
        return Arrays.stream(HeadType.values()).filter(HeadType::available)
                .map(t -> new HeadVariant(t.id(), t, options)).toList();
    }

    public Head create(int dimension) {
        return type.create(dimension, options);
    }
}
