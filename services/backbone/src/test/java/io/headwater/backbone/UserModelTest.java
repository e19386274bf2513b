package io.headwater.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.headwater.core.ConfigException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backbone loaded from an ONNX file and its tokenizer.json: here the bundled int8 MiniLM's bytes
 * copied to a temporary directory, so the right settings must reproduce the bundled backbone and
 * wrong ones must fail naming the file and the mismatch.
 */
class UserModelTest {

    @TempDir
    static Path dir;

    private static Path model;
    private static Path tokenizer;
    private static Backbone bundled;

    @BeforeAll
    static void copyBundledModel() throws Exception {
        model = dir.resolve("my-minilm.onnx");
        tokenizer = dir.resolve("tokenizer.json");
        try (InputStream in = UserModelTest.class.getResourceAsStream("/all-minilm-l6-v2-q.onnx")) {
            Files.copy(in, model);
        }
        try (InputStream in = UserModelTest.class.getResourceAsStream("/all-minilm-l6-v2-q-tokenizer.json")) {
            Files.copy(in, tokenizer);
        }
        bundled = Backbone.load(BackboneSpec.builder().name("all-minilm-l6-v2-q").maxTokens(128)
                .provider(ExecutionProvider.CPU).build());
    }

    @AfterAll
    static void close() {
        bundled.close();
    }

    private static UserModel.Builder user() {
        return UserModel.builder(model, tokenizer).rowsInteract(true);
    }

    private static BackboneSpec spec(UserModel user) {
        return BackboneSpec.builder().userModel(user).maxTokens(128).provider(ExecutionProvider.CPU).build();
    }

    @Test
    void shouldGiveSameVectorsIdStemAndChecksumAsBundledModelWhenSettingsAreRight() {
        // given
        BackboneSpec spec = spec(user().build()).toBuilder().dimension(384).build();

        // when
        try (Backbone fromFile = Backbone.load(spec)) {
            float[][] ours = fromFile.embed(BundledBackbonesTest.SENTENCES);
            float[][] reference = bundled.embed(BundledBackbonesTest.SENTENCES);

            // then
            assertThat(fromFile.id()).isEqualTo("my-minilm");
            assertThat(fromFile.sha256()).isEqualTo(bundled.sha256());
            assertThat(fromFile.dimension()).isEqualTo(384);
            assertThat(fromFile.pooling()).isEqualTo(PoolingMode.MEAN);
            assertThat(fromFile.rowByRow()).isTrue();
            assertThat(fromFile.provider()).isEqualTo("cpu");
            for (int i = 0; i < ours.length; i++) {
                assertThat(BackboneTest.cosine(ours[i], reference[i])).isGreaterThan(0.999999);
            }
        }
    }

    @Test
    void shouldUseConfiguredIdInsteadOfFileName() {
        try (Backbone fromFile = Backbone.load(spec(user().id("minilm-int8@team-a").build()))) {
            assertThat(fromFile.id()).isEqualTo("minilm-int8@team-a");
        }
    }

    @Test
    void shouldNameFileAndInputsWhenConfiguredInputNameIsWrong() {
        // given
        UserModel wrong = user().names(new TensorNames("ids", "attention_mask", "token_type_ids",
                "last_hidden_state")).build();

        // when / then
        assertThatThrownBy(() -> Backbone.load(spec(wrong)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("model " + model + " has no input 'ids' (inputs: [")
                .hasMessageContainingAll("input_ids", "attention_mask", "token_type_ids", "set backbone.input.ids.name");
    }

    @Test
    void shouldNameFileAndInputWhenModelHasInputTheBackboneDoesNotFeed() {
        // given: the model's token_type_ids would go unfed
        UserModel wrong = user().names(new TensorNames("input_ids", "attention_mask", "segment_ids",
                "last_hidden_state")).build();

        // when / then
        assertThatThrownBy(() -> Backbone.load(spec(wrong)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("model " + model + " has input 'token_type_ids' that the backbone does not feed");
    }

    @Test
    void shouldNameFileAndShapeWhenExpectedDimensionIsWrong() {
        // given
        BackboneSpec wrong = spec(user().build()).toBuilder().dimension(768).build();

        // when / then
        assertThatThrownBy(() -> Backbone.load(wrong))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model " + model + " output 'last_hidden_state' has shape [-1, -1, 384] but "
                        + "backbone.dimension is 768");
    }

    @Test
    void shouldNameFileAndOutputsWhenOutputNameIsWrong() {
        // given
        UserModel wrong = user().names(new TensorNames("input_ids", "attention_mask", "token_type_ids",
                "sentence_embedding")).build();

        // when / then
        assertThatThrownBy(() -> Backbone.load(spec(wrong)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model " + model + " has no output 'sentence_embedding' (outputs: [last_hidden_state]); "
                        + "set backbone.output.name");
    }

    @Test
    void shouldNameKeyAndPathWhenModelFileIsMissing() {
        // given
        Path missing = dir.resolve("nope.onnx");

        // when / then
        assertThatThrownBy(() -> Backbone.load(spec(UserModel.builder(missing, tokenizer).build())))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.model.path " + missing + " is not a readable file");
        assertThatThrownBy(() -> Backbone.load(spec(UserModel.builder(model, dir.resolve("none.json")).build())))
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.tokenizer.path " + dir.resolve("none.json") + " is not a readable file");
    }

    @Test
    void shouldWarnOnceWhenDynamicallyQuantisedModelIsRunInPaddedBatches() {
        // given: the int8 graph, left at the default (rows do not interact)
        List<ILoggingEvent> events;
        try (LogCapture log = LogCapture.backbone();
                Backbone batched = Backbone.load(spec(user().rowsInteract(false).build()))) {

            // when
            events = log.events();

            // then
            assertThat(batched.rowByRow()).isFalse();
        }
        assertThat(events).filteredOn(e -> e.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .startsWith("Model " + model + " is dynamically int8-quantised")
                .contains("backbone.row.by.row=true");
    }

    @Test
    void shouldTakeFileNameWithoutOnnxAsDefaultId() {
        assertThat(UserModel.defaultId(Path.of("/models/e5-small-v2.onnx"))).isEqualTo("e5-small-v2");
        assertThat(UserModel.defaultId(Path.of("/models/encoder"))).isEqualTo("encoder");
        assertThatThrownBy(() -> UserModel.builder(model, tokenizer).id(" ").build())
                .isInstanceOf(ConfigException.class)
                .hasMessage("backbone.model.id must not be blank, found ' '");
    }
}
