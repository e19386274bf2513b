package io.headwater.backbone;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The image backbones shipped on the classpath. Each graph carries its own pre- and
 * post-processing settings in its ONNX metadata ({@code headwater.image.mean}, {@code .std},
 * {@code .output}, {@code .pooling}), which {@link ImageBackbone#load} reads; a user model may carry
 * them too, or take them from {@link ImageBackboneSpec}.
 *
 * <pre>{@code
 * ImageBackbone fashion = ImageBackbone.load(ImageBackboneSpec.builder().name("fashion-cnn").build());
 * }</pre>
 */
public enum BundledImageModel {
    /**
     * A 3-block CNN (94,410 parameters) trained by the project on the 60,000 training images of
     * Fashion-MNIST, all 10 classes, 5 epochs ({@code tools/image-backbone/train_fashion_cnn.py});
     * 90.7% on the 10,000 held-out test images. Input {@code image} [batch, 1, 28, 28]; the
     * embedding is its last feature map [batch, 128, 7, 7], average-pooled to 128 values.
     */
    FASHION_CNN("fashion-cnn", "/fashion-cnn.onnx");

    private final String id;
    private final String modelResource;

    BundledImageModel(String id, String modelResource) {
        this.id = id;
        this.modelResource = modelResource;
    }

    /** The stable name, as used in {@code backbone.image.name} and in published models. */
    public String id() {
        return id;
    }

    /** Absolute classpath resource of the ONNX graph. */
    public String modelResource() {
        return modelResource;
    }

    /** The bundled image model with this id, if any. */
    public static Optional<BundledImageModel> byName(String name) {
        return Arrays.stream(values()).filter(m -> m.id.equals(name)).findFirst();
    }

    /** Comma-separated ids of every bundled image model, for error messages. */
    public static String knownNames() {
        return Arrays.stream(values()).map(BundledImageModel::id).collect(Collectors.joining(", "));
    }
}
