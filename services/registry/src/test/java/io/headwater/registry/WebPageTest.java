package io.headwater.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.headwater.core.FatalException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLClassLoader;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WebPageTest {
    private HttpServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", WebPage.load(WebPage.class.getClassLoader())::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeThePageItsScriptAndTheChartLibraryWithASecurityPolicy() throws Exception {
        HttpResponse<String> page = get("/ui/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v -> v.startsWith("default-src 'self'"));
        assertThat(page.body()).contains("<script src=\"chart.umd.min.js\"></script>", "id=\"tasks\"");
        assertThat(get("/ui/app.js").body()).contains("/tasks");
        assertThat(get("/ui/chart.umd.min.js").body()).contains("Chart.js v4.");
        assertThat(get("/ui/chart.js-LICENSE.md").body()).contains("MIT");
    }

    @Test
    void shouldRedirectTheRootToThePage() throws Exception {
        HttpResponse<String> root = get("/");
        assertThat(root.statusCode()).isEqualTo(302);
        assertThat(root.headers().firstValue("Location")).hasValue("/ui/");
        assertThat(get("/ui").statusCode()).isEqualTo(302);
    }

    @Test
    void shouldAnswer404ForAnythingElseAnd405ForAPost() throws Exception {
        HttpResponse<String> missing = get("/ui/../../etc/passwd");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("\"error\"");
        assertThat(get("/ui/index.html").statusCode()).isEqualTo(404);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/ui/"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.body()).contains("method POST not allowed on /ui/");
    }

    @Test
    void shouldRefuseToStartWithoutTheChartLibrary() throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThatThrownBy(() -> WebPage.load(empty)).isInstanceOf(FatalException.class)
                    .hasMessageContaining("META-INF/maven/org.webjars.npm/chart.js/pom.properties");
        }
    }
}
