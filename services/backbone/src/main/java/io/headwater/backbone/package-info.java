/**
 * The frozen backbone: ONNX Runtime text encoders that turn examples into embeddings. No Kafka.
 *
 * <p>Split the DJL way into pre-processing ({@link io.headwater.backbone.TextTokenizer}),
 * execution (an ONNX Runtime session) and post-processing ({@link io.headwater.backbone.Pooling}),
 * composed by {@link io.headwater.backbone.Backbone}:
 *
 * <pre>{@code
 * try (Backbone backbone = Backbone.load(BackboneSpec.defaults())) {
 *     float[][] vectors = backbone.embed(List.of("hello", "world"));
 * }
 * }</pre>
 */
package io.headwater.backbone;
