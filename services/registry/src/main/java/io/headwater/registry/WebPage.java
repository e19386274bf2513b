package io.headwater.registry;

import com.sun.net.httpserver.HttpExchange;
import io.headwater.core.FatalException;
import io.headwater.kafka.MetricsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * The registry's web page, served beside its API under {@code /ui/}: a static page and script that
 * read the API from the browser, and Chart.js from its WebJar ({@code org.webjars.npm:chart.js}).
 * Only the files listed here are served, all loaded from the class path when the API starts, so a
 * build that lacks one fails at start-up, not in a browser.
 *
 * <pre>{@code
 * WebPage page = WebPage.load(WebPage.class.getClassLoader());
 * server.createContext("/", page::handle);
 * }</pre>
 */
final class WebPage {
    static final String PATH = "/ui/";
    private static final String OWN = "io/headwater/registry/ui/";
    private static final String CHART_POM = "META-INF/maven/org.webjars.npm/chart.js/pom.properties";
    private static final String SECURITY_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; frame-ancestors 'none'";

    private record Asset(String type, byte[] bytes) {
    }

    private final Map<String, Asset> assets;

    private WebPage(Map<String, Asset> assets) {
        this.assets = assets;
    }

    /** Loads every file of the page; a missing one is a {@link FatalException} naming it. */
    static WebPage load(ClassLoader loader) {
        Objects.requireNonNull(loader, "loader cannot be null");
        String chart = "META-INF/resources/webjars/chart.js/" + chartVersion(loader) + "/";
        Map<String, Asset> assets = new LinkedHashMap<>();
        assets.put(PATH, asset(loader, OWN + "index.html", "text/html; charset=utf-8"));
        assets.put(PATH + "app.js", asset(loader, OWN + "app.js", "text/javascript; charset=utf-8"));
        assets.put(PATH + "app.css", asset(loader, OWN + "app.css", "text/css; charset=utf-8"));
        assets.put(PATH + "chart.umd.min.js", asset(loader, chart + "dist/chart.umd.min.js",
                "text/javascript; charset=utf-8"));
        assets.put(PATH + "chart.js-LICENSE.md", asset(loader, chart + "LICENSE.md", "text/plain; charset=utf-8"));
        return new WebPage(assets);
    }

    private static String chartVersion(ClassLoader loader) {
        Properties p = new Properties();
        try (InputStream in = loader.getResourceAsStream(CHART_POM)) {
            if (in == null) {
                throw missing(CHART_POM);
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read " + CHART_POM, e);
        }
        return p.getProperty("version");
    }

    private static Asset asset(ClassLoader loader, String resource, String type) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw missing(resource);
            }
            return new Asset(type, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read " + resource, e);
        }
    }

    private static FatalException missing(String resource) {
        return new FatalException("The registry's web page needs " + resource + " on the class path; the build "
                + "that made this jar is incomplete");
    }

    /** Answers GET of the page's files, redirects {@code /} and {@code /ui} to the page, 404 for anything else. */
    void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            if (!"GET".equals(ex.getRequestMethod())) {
                RegistryApi.error(ex, 405, "method " + ex.getRequestMethod() + " not allowed on " + path);
                return;
            }
            if (path.equals("/") || path.equals("/ui")) {
                ex.getResponseHeaders().set("Location", PATH);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            Asset a = assets.get(path);
            if (a == null) {
                RegistryApi.error(ex, 404, "no such resource " + path);
                return;
            }
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            ex.getResponseHeaders().set("Content-Security-Policy", SECURITY_POLICY);
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            MetricsServer.respond(ex, 200, a.type(), a.bytes());
        } finally {
            ex.close();
        }
    }
}
