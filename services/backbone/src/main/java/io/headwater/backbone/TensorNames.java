package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.util.Objects;

/**
 * The names of a BERT-style encoder's ONNX inputs and of the output holding its per-token hidden
 * states. The backbone feeds {@link #inputIds()} and {@link #attentionMask()} (both required,
 * int64 {@code [batch, sequence]}) and {@link #tokenTypeIds()} when the model has that input; it
 * reads {@link #output()}, float {@code [batch, sequence, dimension]}.
 *
 * <pre>{@code
 * TensorNames names = new TensorNames("input_ids", "attention_mask", "token_type_ids", "hidden");
 * }</pre>
 *
 * @param inputIds name of the token id input ({@code backbone.input.ids.name})
 * @param attentionMask name of the attention mask input ({@code backbone.attention.mask.name})
 * @param tokenTypeIds name of the segment id input, fed only if the model has it
 *     ({@code backbone.token.type.ids.name})
 * @param output name of the hidden-state output ({@code backbone.output.name})
 */
public record TensorNames(String inputIds, String attentionMask, String tokenTypeIds, String output) {

    /** The names Hugging Face exports use. */
    public static final TensorNames STANDARD =
            new TensorNames("input_ids", "attention_mask", "token_type_ids", "last_hidden_state");

    public TensorNames {
        requireName(inputIds, "backbone.input.ids.name");
        requireName(attentionMask, "backbone.attention.mask.name");
        requireName(tokenTypeIds, "backbone.token.type.ids.name");
        requireName(output, "backbone.output.name");
        if (inputIds.equals(attentionMask) || inputIds.equals(tokenTypeIds) || attentionMask.equals(tokenTypeIds)) {
            throw new ConfigException("backbone.input.ids.name, backbone.attention.mask.name and "
                    + "backbone.token.type.ids.name must differ, found '" + inputIds + "', '"
                    + attentionMask + "' and '" + tokenTypeIds + "'");
        }
    }

    private static void requireName(String name, String key) {
        Objects.requireNonNull(name, key + " cannot be null");
        if (name.isBlank()) {
            throw new ConfigException(key + " must not be blank, found '" + name + "'");
        }
    }
}
