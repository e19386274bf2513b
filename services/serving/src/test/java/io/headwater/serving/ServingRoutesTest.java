package io.headwater.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Which tasks each backbone's client follows: the extractor's routing, within serving.tasks. */
class ServingRoutesTest {
    static final Pattern ALL = Pattern.compile(".*");
    static final Pattern BGE = Pattern.compile("bge-.*");
    static final Pattern B = Pattern.compile("b.*");

    @Test
    void shouldGiveARuleTheTasksItMatchesThatNoEarlierRuleTakes() {
        Pattern first = Serving.follows(ALL, Optional.of(BGE), List.of());
        Pattern second = Serving.follows(ALL, Optional.of(B), List.of(BGE));
        assertThat(first.matcher("bge-news").matches()).isTrue();
        assertThat(first.matcher("spam").matches()).isFalse();
        assertThat(second.matcher("bge-news").matches()).as("bge's, the earlier rule").isFalse();
        assertThat(second.matcher("books").matches()).isTrue();
        assertThat(second.matcher("spam").matches()).isFalse();
    }

    @Test
    void shouldGiveTheDefaultBackboneEveryTaskNoRuleMatches() {
        Pattern fallback = Serving.follows(ALL, Optional.empty(), List.of(BGE, Pattern.compile("photos")));
        assertThat(fallback.matcher("spam").matches()).isTrue();
        assertThat(fallback.matcher("photos-2").matches()).as("photos must match whole").isTrue();
        assertThat(fallback.matcher("photos").matches()).isFalse();
        assertThat(fallback.matcher("bge-news").matches()).isFalse();
    }

    @Test
    void shouldKeepEverySideWithinServingTasks() {
        Pattern served = Pattern.compile("spam|bge-a");
        Pattern bge = Serving.follows(served, Optional.of(BGE), List.of());
        Pattern fallback = Serving.follows(served, Optional.empty(), List.of(BGE));
        assertThat(bge.matcher("bge-a").matches()).isTrue();
        assertThat(bge.matcher("bge-b").matches()).as("not served").isFalse();
        assertThat(fallback.matcher("spam").matches()).isTrue();
        assertThat(fallback.matcher("ham").matches()).isFalse();
        assertThat(fallback.matcher("bge-a").matches()).isFalse();
    }

    @Test
    void shouldGiveTheDefaultAnIdThatMatchesARuleOnlyUpToATrailingNewline() {
        // The extractor routes "photos\n" to the default backbone (the rule must match the whole id);
        // a "$" in the exclusion would match before the final line break and leave it to no side.
        Pattern fallback = Serving.follows(Pattern.compile("(?s).*"), Optional.empty(),
                List.of(Pattern.compile("photos")));
        assertThat(fallback.matcher("photos\n").matches()).isTrue();
        assertThat(fallback.matcher("photos").matches()).isFalse();
    }

    @Test
    void shouldRefuseABackboneThatIsNeitherTextNorImage() {
        // An embedder of a third kind would be served as images and fail on the first request.
        io.headwater.backbone.Embedder other = new io.headwater.backbone.Embedder() {
            public String id() {
                return "audio";
            }

            public String sha256() {
                return "0".repeat(64);
            }

            public int dimension() {
                return 8;
            }

            public String provider() {
                return "cpu";
            }

            public long calls() {
                return 0;
            }

            public void close() {
            }
        };
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new TaskBackbone("backbone.audio.tasks=a", other,
                Pattern.compile("a"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a text Backbone or an ImageBackbone");
    }
}
