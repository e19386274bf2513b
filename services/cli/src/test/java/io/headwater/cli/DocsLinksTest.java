package io.headwater.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every relative link in README.md and docs/*.md points at a file that exists and, into a Markdown
 * file, at a heading it has (GitHub's anchors: lower case, punctuation dropped, spaces to hyphens,
 * a repeated heading numbered -1, -2, ...).
 */
class DocsLinksTest {
    static final Path ROOT = Path.of("../..");
    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");

    @Test
    void shouldResolveEveryRelativeLinkOfTheReadmeAndTheDocs() throws IOException {
        // given
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        // when
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path page : pages) {
            links += links(page).size();
            broken.addAll(brokenLinks(page));
        }
        // then
        assertThat(pages).hasSizeGreaterThan(5);
        assertThat(links).isGreaterThan(20);
        assertThat(broken).as("broken links").isEmpty();
    }

    @Test
    void shouldReportAMissingFileAndAMissingAnchor(@TempDir Path dir) throws IOException {
        // given
        Files.writeString(dir.resolve("other.md"), "# Other page\n\n## Setting `up`: step 1\n\n## Twice\n\n## Twice\n");
        Files.writeString(dir.resolve("page.md"), String.join("\n",
                "# Page", "",
                "[ok](other.md) [ok](other.md#setting-up-step-1) [ok](other.md#twice-1) [ok](#page)",
                "[web](https://example.org/x.md) [mail](mailto:a@b.c)",
                "[gone](missing.md) [no anchor](other.md#nowhere) [here](#nothing)",
                "```", "[in code](ignored.md)", "```", ""));
        // when
        List<String> broken = brokenLinks(dir.resolve("page.md"));
        // then
        assertThat(broken).containsExactly(
                "page.md: missing.md (no such file)",
                "page.md: other.md#nowhere (no heading with that anchor)",
                "page.md: #nothing (no heading with that anchor)");
    }

    @Test
    void shouldReportACodeFenceThatIsNeverClosed(@TempDir Path dir) throws IOException {
        // given: a block left open hides every link after it
        Files.writeString(dir.resolve("page.md"), "# Page\n\n```bash\necho hi\n\n[gone](missing.md)\n");
        // when
        List<String> broken = brokenLinks(dir.resolve("page.md"));
        // then
        assertThat(broken).containsExactly("page.md: a code fence (```) is never closed");
    }

    static List<String> brokenLinks(Path page) {
        List<String> broken = new ArrayList<>();
        if (unclosedFence(page)) {
            broken.add(page.getFileName() + ": a code fence (```) is never closed");
        }
        for (String target : links(page)) {
            if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                continue; // https:, mailto: and the like are not checked here
            }
            int hash = target.indexOf('#');
            String file = hash < 0 ? target : target.substring(0, hash);
            Path resolved = file.isEmpty() ? page : page.resolveSibling(file).normalize();
            if (!Files.exists(resolved)) {
                broken.add(page.getFileName() + ": " + target + " (no such file)");
            } else if (hash >= 0 && resolved.toString().endsWith(".md")
                    && !anchors(resolved).contains(target.substring(hash + 1))) {
                broken.add(page.getFileName() + ": " + target + " (no heading with that anchor)");
            }
        }
        return broken;
    }

    static List<String> links(Path page) {
        List<String> targets = new ArrayList<>();
        for (String line : proseLines(page)) {
            Matcher m = LINK.matcher(line.replaceAll("`[^`]*`", ""));
            while (m.find()) {
                targets.add(m.group(1));
            }
        }
        return targets;
    }

    static Set<String> anchors(Path page) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String line : proseLines(page)) {
            Matcher m = HEADING.matcher(line);
            if (m.matches()) {
                String slug = m.group(1).toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
                int n = seen.merge(slug, 1, Integer::sum);
                anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
            }
        }
        return anchors;
    }

    private static boolean unclosedFence(Path page) {
        try (Stream<String> lines = Files.lines(page)) {
            return lines.filter(l -> l.startsWith("```")).count() % 2 == 1;
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read " + page, e);
        }
    }

    /** The lines of a page outside fenced code blocks. */
    private static List<String> proseLines(Path page) {
        List<String> lines = new ArrayList<>();
        boolean fenced = false;
        try {
            for (String line : Files.readAllLines(page)) {
                if (line.startsWith("```")) {
                    fenced = !fenced;
                } else if (!fenced) {
                    lines.add(line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read " + page, e);
        }
        return lines;
    }
}
