/**
 * The frozen backbone: ONNX Runtime text encoders that turn examples into embeddings. No Kafka.
 *
 * <p>Split the DJL way into pre-processing ({@link io.headwater.backbone.TextTokenizer}),
 * execution (an ONNX Runtime session, on the CPU or a CUDA device: see
 * {@link io.headwater.backbone.ExecutionProvider}) and post-processing
 * ({@link io.headwater.backbone.Pooling}), composed by {@link io.headwater.backbone.Backbone}. The
 * model is one of the {@link io.headwater.backbone.BundledModel}s or a
 * {@link io.headwater.backbone.UserModel} loaded from files:
 *
 * <pre>{@code
 * try (Backbone backbone = Backbone.load(BackboneSpec.defaults())) {
 *     float[][] vectors = backbone.embed(List.of("hello", "world"));
 * }
 * }</pre>
 *
 * <p>GPU: build with {@code -Pgpu} (the {@code onnxruntime_gpu} artifact, CUDA 12 and cuDNN 9 on
 * the machine), choose the float32 {@code all-minilm-l6-v2} or a float32/float16 user model, and
 * set {@code backbone.provider=cuda} (or leave {@code auto}).
 */
package io.headwater.backbone;
