package io.headwater.backbone;

import io.headwater.core.ConfigException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A backbone from files rather than the classpath: any BERT-style ONNX encoder plus its Hugging
 * Face {@code tokenizer.json}. {@link Backbone#load} reads the graph's inputs and output shape and
 * stops start-up with a {@link ConfigException} naming the file and the mismatch when they do not
 * fit these settings.
 *
 * <pre>{@code
 * UserModel model = UserModel.builder(Path.of("/models/e5-small.onnx"), Path.of("/models/tokenizer.json"))
 *         .pooling(PoolingMode.MEAN)
 *         .build();                       // id "e5-small", padded batches, standard tensor names
 * BackboneSpec spec = BackboneSpec.builder().userModel(model).dimension(384).build();
 * }</pre>
 *
 * @param modelPath the ONNX graph ({@code backbone.model.path}); external data files beside it work
 * @param tokenizerPath its {@code tokenizer.json} ({@code backbone.tokenizer.path})
 * @param id stable id of the backbone, published with every head built on it
 *     ({@code backbone.model.id}; by default the model file's name without {@code .onnx})
 * @param pooling how per-token states become one vector ({@code backbone.pooling})
 * @param rowsInteract whether a text's output depends on its batch-mates, as in dynamically
 *     int8-quantised graphs; if so the model runs one text per session run
 *     ({@code backbone.row.by.row})
 * @param names input and output tensor names
 */
public record UserModel(Path modelPath, Path tokenizerPath, String id, PoolingMode pooling,
        boolean rowsInteract, TensorNames names) {

    public UserModel {
        Objects.requireNonNull(modelPath, "modelPath cannot be null");
        Objects.requireNonNull(tokenizerPath, "tokenizerPath cannot be null");
        Objects.requireNonNull(id, "id cannot be null");
        Objects.requireNonNull(pooling, "pooling cannot be null");
        Objects.requireNonNull(names, "names cannot be null");
        if (id.isBlank()) {
            throw new ConfigException("backbone.model.id must not be blank, found '" + id + "'");
        }
    }

    /** A builder for the model at {@code modelPath} whose tokenizer is {@code tokenizerPath}. */
    public static Builder builder(Path modelPath, Path tokenizerPath) {
        return new Builder(modelPath, tokenizerPath);
    }

    /** The default id of a model file: its name without a trailing {@code .onnx}. */
    public static String defaultId(Path modelPath) {
        Objects.requireNonNull(modelPath, "modelPath cannot be null");
        Path fileName = modelPath.getFileName();
        String name = fileName == null ? modelPath.toString() : fileName.toString();
        return name.endsWith(".onnx") && name.length() > ".onnx".length()
                ? name.substring(0, name.length() - ".onnx".length())
                : name;
    }

    /** Builds a {@link UserModel}; everything but the two paths has a default. */
    public static final class Builder {
        private final Path modelPath;
        private final Path tokenizerPath;
        private Optional<String> id = Optional.empty();
        private PoolingMode pooling = PoolingMode.MEAN;
        private boolean rowsInteract;
        private TensorNames names = TensorNames.STANDARD;

        private Builder(Path modelPath, Path tokenizerPath) {
            this.modelPath = Objects.requireNonNull(modelPath, "modelPath cannot be null");
            this.tokenizerPath = Objects.requireNonNull(tokenizerPath, "tokenizerPath cannot be null");
        }

        /** Overrides the id (default: the model file's name without {@code .onnx}). */
        public Builder id(String id) {
            this.id = Optional.of(Objects.requireNonNull(id, "id cannot be null"));
            return this;
        }

        /** Pooling of the hidden states (default {@link PoolingMode#MEAN}). */
        public Builder pooling(PoolingMode pooling) {
            this.pooling = Objects.requireNonNull(pooling, "pooling cannot be null");
            return this;
        }

        /** Whether batch-mates change each other's output (default false: padded batches). */
        public Builder rowsInteract(boolean rowsInteract) {
            this.rowsInteract = rowsInteract;
            return this;
        }

        /** Input and output names (default {@link TensorNames#STANDARD}). */
        public Builder names(TensorNames names) {
            this.names = Objects.requireNonNull(names, "names cannot be null");
            return this;
        }

        public UserModel build() {
            return new UserModel(modelPath, tokenizerPath, id.orElseGet(() -> defaultId(modelPath)),
                    pooling, rowsInteract, names);
        }
    }
}
