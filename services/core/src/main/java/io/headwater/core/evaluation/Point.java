package io.headwater.core.evaluation;

/** One point of a curve: a value (an accuracy) after {@code examples} examples. */
public record Point(long examples, double value) {
}
