package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Parsing of enum-valued settings written in lower case, e.g. {@code backbone.image.pooling=mean}. */
final class ConfigValues {
    private ConfigValues() {
    }

    /** The value as written in configuration: the constant's name in lower case. */
    static String of(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The constant written {@code value} (case and surrounding blanks ignored).
     *
     * @throws ConfigException naming the key, the value and the accepted values
     */
    static <E extends Enum<E>> E parse(Class<E> type, String key, String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        E[] constants = type.getEnumConstants();
        return Arrays.stream(constants).filter(c -> of(c).equals(wanted)).findFirst()
                .orElseThrow(() -> new ConfigException(key + " must be one of ["
                        + Arrays.stream(constants).map(ConfigValues::of).collect(Collectors.joining(", "))
                        + "], found '" + value + "'"));
    }
}
