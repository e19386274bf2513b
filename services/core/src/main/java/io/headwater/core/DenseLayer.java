package io.headwater.core;

import java.util.Arrays;
import java.util.Objects;

/**
 * One dense layer of a portable head: {@code out = activation(weights * in + bias)}, with the
 * weights stored row-major as {@code [outputs][inputs]}.
 *
 * @param inputs     number of inputs
 * @param outputs    number of outputs
 * @param weights    {@code outputs * inputs} values, row-major
 * @param bias       {@code outputs} values
 * @param activation applied to the whole output vector
 */
public record DenseLayer(int inputs, int outputs, float[] weights, float[] bias, Activation activation) {

    /** Activation of a dense layer; the code is its value in the binary artifact format. */
    public enum Activation {
        IDENTITY(0), RELU(1), SOFTMAX(2);

        private final int code;

        Activation(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        public static Activation ofCode(int code) {
            for (Activation a : values()) {
                if (a.code == code) {
                    return a;
                }
            }
            throw new BadRecordException("unknown activation code " + code);
        }
    }

    public DenseLayer {
        Objects.requireNonNull(weights, "weights cannot be null");
        Objects.requireNonNull(bias, "bias cannot be null");
        Objects.requireNonNull(activation, "activation cannot be null");
        if (inputs < 1 || outputs < 1) {
            throw new BadRecordException("dense layer must have at least one input and output, found "
                    + inputs + " x " + outputs);
        }
        if (weights.length != inputs * outputs) {
            throw new BadRecordException("dense layer " + outputs + " x " + inputs + " needs "
                    + (inputs * outputs) + " weights, found " + weights.length);
        }
        if (bias.length != outputs) {
            throw new BadRecordException("dense layer with " + outputs + " outputs needs " + outputs
                    + " biases, found " + bias.length);
        }
    }

    /** Applies the layer to one input vector. */
    public float[] apply(float[] in) {
        if (in.length != inputs) {
            throw new BadRecordException("layer expects " + inputs + " inputs, found " + in.length);
        }
        float[] out = new float[outputs];
        for (int o = 0; o < outputs; o++) {
            // Four partial sums in double, so that each addition need not wait for the one before.
            double a0 = 0;
            double a1 = 0;
            double a2 = 0;
            double a3 = 0;
            int row = o * inputs;
            int i = 0;
            for (; i + 3 < inputs; i += 4) {
                a0 += (double) weights[row + i] * in[i];
                a1 += (double) weights[row + i + 1] * in[i + 1];
                a2 += (double) weights[row + i + 2] * in[i + 2];
                a3 += (double) weights[row + i + 3] * in[i + 3];
            }
            for (; i < inputs; i++) {
                a0 += (double) weights[row + i] * in[i];
            }
            out[o] = (float) (bias[o] + ((a0 + a1) + (a2 + a3)));
        }
        switch (activation) {
            case RELU -> {
                for (int o = 0; o < outputs; o++) {
                    out[o] = Math.max(0f, out[o]);
                }
            }
            case SOFTMAX -> softmaxInPlace(out);
            case IDENTITY -> { }
        }
        return out;
    }

    /** Turns logits into probabilities, in place (shifted by the maximum, so large logits do not overflow). */
    static void softmaxInPlace(double[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.exp(v[i] - max);
            sum += v[i];
        }
        for (int i = 0; i < v.length; i++) {
            v[i] /= sum;
        }
    }

    static void softmaxInPlace(float[] v) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            double e = Math.exp(v[i] - max);
            v[i] = (float) e;
            sum += e;
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] / sum);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DenseLayer d && d.inputs == inputs && d.outputs == outputs
                && d.activation == activation && Arrays.equals(d.weights, weights) && Arrays.equals(d.bias, bias);
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputs, outputs, activation, Arrays.hashCode(weights), Arrays.hashCode(bias));
    }

    @Override
    public String toString() {
        return "DenseLayer[" + outputs + "x" + inputs + ", " + activation + "]";
    }
}
