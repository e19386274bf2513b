package io.headwater.extractor;

import static org.assertj.core.api.Assertions.assertThat;

import io.headwater.backbone.Embedder;
import io.headwater.kafka.Example;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Which backbone takes a task: first matching named backbone, then backbone.image.tasks, then the default. */
class RoutingTest {
    static final Example.Input TEXT = new Example.Text("a text");
    static final Example.Input IMAGE = new Example.Image(new byte[] {1, 2, 3});
    static final Example.Input VECTOR = new Example.Vector(new float[] {1f});

    /** An embedder with an identity only; routing never embeds. */
    record Fake(String id, int dimension) implements Embedder {
        @Override
        public String sha256() {
            return "0".repeat(64);
        }

        @Override
        public String provider() {
            return "cpu";
        }

        @Override
        public long calls() {
            return 0;
        }

        @Override
        public void close() {
        }
    }

    final Lane bge = lane(0, "bge", new Fake("bge-small-en-v15-q", 384), false, "bge-.*");
    final Lane photos = lane(1, "photos", new Fake("fashion-cnn", 128), true, "photos-.*|bge-photos");
    final Lane image = new Lane(2, Lane.IMAGE, new Fake("resnet", 512), true, ExtractorConfig.IMAGE_TASKS,
            Optional.of(Pattern.compile("pics|photos-old")), Optional.empty());
    final Lane fallback = new Lane(3, Lane.DEFAULT, new Fake("all-minilm-l6-v2-q", 384), false, "", Optional.empty(),
            Optional.empty());

    static Lane lane(int index, String name, Embedder b, boolean images, String regex) {
        return new Lane(index, name, b, images, ExtractorConfig.namedKey(name, ExtractorConfig.NAMED_TASKS),
                Optional.of(Pattern.compile(regex)), Optional.empty());
    }

    @Test
    void shouldSendATaskToTheFirstNamedBackboneThatMatches() {
        // given: bge-photos matches both bge's and photos' patterns
        Routing routing = new Routing(List.of(bge, photos, image), fallback);

        // then: bge, listed first, wins; photos-old matches photos before backbone.image.tasks
        assertThat(routing.route("bge-photos")).isSameAs(bge);
        assertThat(routing.route("bge-news")).isSameAs(bge);
        assertThat(routing.route("photos-old")).isSameAs(photos);
        assertThat(routing.route("photos-1")).isSameAs(photos);
    }

    @Test
    void shouldFallBackToTheImageBackboneThenTheDefault() {
        Routing routing = new Routing(List.of(bge, photos, image), fallback);

        assertThat(routing.route("pics")).isSameAs(image);
        assertThat(routing.route("spam")).isSameAs(fallback);
        // a pattern matches the whole task id, not a part of it
        assertThat(routing.route("my-bge-news")).isSameAs(fallback);
        assertThat(routing.route("picsx")).isSameAs(fallback);
    }

    @Test
    void shouldSendEveryTaskToTheDefaultWithoutRules() {
        Routing routing = new Routing(List.of(), fallback);

        assertThat(routing.route("anything")).isSameAs(fallback);
        assertThat(routing.lanes()).containsExactly(fallback);
        assertThat(routing.mismatch("anything", fallback, TEXT)).isEmpty();
    }

    @Test
    void shouldDecideEachTaskOnceAndKeepTheDecision() {
        Routing routing = new Routing(List.of(bge, photos, image), fallback);

        // when: the same tasks are routed many times
        for (int i = 0; i < 1000; i++) {
            assertThat(routing.route("bge-news")).isSameAs(bge);
            assertThat(routing.route("spam")).isSameAs(fallback);
        }

        // then: one decision per task is kept, not one per record
        assertThat(routing.tasksDecided()).isEqualTo(2);
    }

    @Test
    void shouldListEveryLaneInRoutingOrder() {
        Routing routing = new Routing(List.of(bge, photos, image), fallback);

        assertThat(routing.lanes()).containsExactly(bge, photos, image, fallback);
    }

    @Test
    void shouldExplainATextSentToAnImageBackbone() {
        Routing routing = new Routing(List.of(bge, photos, image), fallback);

        assertThat(routing.mismatch("photos-1", photos, TEXT)).hasValue("task 'photos-1' takes images "
                + "(backbone.photos.tasks=photos-.*|bge-photos): send \"image\" or a \"vector\" of image backbone "
                + "fashion-cnn's 128 values, not \"text\"");
        assertThat(routing.mismatch("pics", image, TEXT)).hasValue("task 'pics' takes images "
                + "(backbone.image.tasks=pics|photos-old): send \"image\" or a \"vector\" of image backbone "
                + "resnet's 512 values, not \"text\"");
        assertThat(routing.mismatch("photos-1", photos, IMAGE)).isEmpty();
        assertThat(routing.mismatch("photos-1", photos, VECTOR)).isEmpty();
    }

    @Test
    void shouldExplainAnImageSentToATextBackbone() {
        Routing routing = new Routing(List.of(bge, photos, image), fallback);

        assertThat(routing.mismatch("bge-news", bge, IMAGE)).hasValue("task 'bge-news' takes texts: it matches "
                + "backbone.bge.tasks=bge-.* (text backbone bge-small-en-v15-q), so it cannot take \"image\"");
        assertThat(routing.mismatch("spam", fallback, IMAGE)).hasValue("task 'spam' takes texts: it does not match "
                + "backbone.photos.tasks=photos-.*|bge-photos or backbone.image.tasks=pics|photos-old, so it cannot "
                + "take \"image\"");
        assertThat(routing.mismatch("bge-news", bge, TEXT)).isEmpty();
        assertThat(routing.mismatch("spam", fallback, VECTOR)).isEmpty();
    }

    @Test
    void shouldSayWhenNoImageBackboneIsConfigured() {
        assertThat(new Routing(List.of(), fallback).mismatch("spam", fallback, IMAGE)).hasValue("task 'spam' takes "
                + "texts: no image backbone is configured (backbone.image.tasks is empty), so it cannot take \"image\"");
        assertThat(new Routing(List.of(bge), fallback).mismatch("spam", fallback, IMAGE)).hasValue("task 'spam' "
                + "takes texts: no image backbone is configured (backbone.image.tasks is empty and no backbone in "
                + "backbones has kind image), so it cannot take \"image\"");
    }
}
