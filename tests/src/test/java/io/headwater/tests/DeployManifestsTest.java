package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The deployment files agree with each other and have what each kind needs: every YAML file under
 * deploy/ and docker-compose.yml parses; Kubernetes objects have apiVersion, kind and a name, their
 * containers an image, ports and probes; kustomizations list files that exist; and the images and
 * ports of each service are the same in docker-compose.yml, deploy/k8s and the Prometheus scrape
 * config. No tool needed (see {@link DeployToolsTest} for promtool, docker-compose and kustomize).
 */
class DeployManifestsTest {
    static final List<String> SERVICES = List.of("extractor", "trainer", "registry", "serving");
    static final Path K8S = DeployFiles.DEPLOY.resolve("k8s");
    static final Pattern PORT_FLAG = Pattern.compile("^(metrics\\.port|serving\\.port)=(\\d+)$");

    @Test
    void shouldParseEveryYamlFile() throws IOException {
        List<Path> files = yamlFiles(DeployFiles.DEPLOY);
        files.add(DeployFiles.COMPOSE);
        assertThat(files).hasSizeGreaterThan(10);
        for (Path f : files) {
            assertThat(DeployFiles.readYamlDocuments(f)).as(DeployFiles.ROOT.relativize(f).toString()).isNotEmpty();
        }
    }

    @Test
    void shouldGiveEveryKubernetesObjectWhatItsKindNeeds() throws IOException {
        Map<String, JsonNode> services = new HashMap<>();
        List<JsonNode> workloads = new ArrayList<>();
        for (Path f : yamlFiles(K8S)) {
            if (f.getFileName().toString().equals("kustomization.yaml")) {
                continue;
            }
            for (JsonNode doc : DeployFiles.readYamlDocuments(f)) {
                String where = DeployFiles.ROOT.relativize(f) + " " + doc.path("kind").asText();
                assertThat(doc.path("apiVersion").asText()).as(where + " apiVersion").isNotEmpty();
                assertThat(doc.path("kind").asText()).as(where + " kind").isNotEmpty();
                assertThat(doc.path("metadata").path("name").asText()).as(where + " metadata.name").isNotEmpty();
                if (doc.path("kind").asText().equals("Service")) {
                    services.put(doc.path("metadata").path("name").asText(), doc);
                }
                if (Set.of("Deployment", "StatefulSet").contains(doc.path("kind").asText())
                        && f.startsWith(K8S.resolve("base"))) {
                    workloads.add(doc);
                }
            }
        }
        assertThat(workloads).extracting(w -> w.path("metadata").path("name").asText())
                .containsExactlyInAnyOrder("headwater-extractor", "headwater-trainer", "headwater-registry",
                        "headwater-serving");
        for (JsonNode w : workloads) {
            String name = w.path("metadata").path("name").asText();
            JsonNode spec = w.path("spec");
            assertThat(spec.path("selector").path("matchLabels").properties())
                    .as(name + " selector matches its pod labels")
                    .allSatisfy(e -> assertThat(spec.path("template").path("metadata").path("labels")
                            .path(e.getKey()).asText()).isEqualTo(e.getValue().asText()));
            for (JsonNode c : spec.path("template").path("spec").path("containers")) {
                String where = name + " container " + c.path("name").asText();
                assertThat(c.path("image").asText()).as(where + " image").isNotEmpty();
                assertThat(c.path("ports")).as(where + " ports").isNotEmpty();
                for (String probe : List.of("livenessProbe", "readinessProbe")) {
                    assertThat(c.path(probe).path("httpGet").path("path").asText()).as(where + " " + probe)
                            .startsWith("/health");
                }
                assertThat(c.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/health/ready");
                assertThat(c.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/health/live");
            }
            assertThat(services).as(name + " has a Service").containsKey(name);
            if (w.path("kind").asText().equals("StatefulSet")) {
                assertThat(spec.path("serviceName").asText()).as(name + " serviceName").isEqualTo(name);
                assertThat(spec.path("volumeClaimTemplates")).as(name + " volumeClaimTemplates").isNotEmpty();
                assertThat(args(w)).as(name + " args").anyMatch(a -> a.startsWith("num.standby.replicas="));
                String claim = spec.path("volumeClaimTemplates").get(0).path("metadata").path("name").asText();
                assertThat(spec.path("template").path("spec").path("containers").get(0).path("volumeMounts"))
                        .as(name + " mounts its claim").anyMatch(m -> m.path("name").asText().equals(claim));
            }
        }
    }

    @Test
    void shouldListOnlyFilesThatExistInEveryKustomization() throws IOException {
        List<Path> kustomizations = yamlFiles(K8S).stream()
                .filter(f -> f.getFileName().toString().equals("kustomization.yaml")).toList();
        assertThat(kustomizations).hasSizeGreaterThanOrEqualTo(3);
        for (Path k : kustomizations) {
            JsonNode doc = DeployFiles.readYaml(k);
            Path dir = k.getParent();
            List<String> referenced = new ArrayList<>();
            doc.path("resources").forEach(r -> referenced.add(r.asText()));
            doc.path("patches").forEach(p -> referenced.add(p.path("path").asText()));
            doc.path("configMapGenerator").forEach(g -> g.path("files").forEach(f -> referenced.add(f.asText())));
            assertThat(referenced).as(DeployFiles.ROOT.relativize(k).toString()).isNotEmpty();
            for (String r : referenced) {
                Path p = dir.resolve(r).normalize();
                assertThat(Files.isRegularFile(p) || Files.isRegularFile(p.resolve("kustomization.yaml")))
                        .as(DeployFiles.ROOT.relativize(k) + " lists " + r).isTrue();
            }
        }
    }

    @Test
    void shouldUseTheSameImagesAndPortsInComposeKubernetesAndPrometheus() throws IOException {
        JsonNode compose = DeployFiles.readYaml(DeployFiles.COMPOSE).path("services");
        // the image: compose builds and tags it, kustomize sets the same tag
        JsonNode images = DeployFiles.readYaml(K8S.resolve("base/kustomization.yaml")).path("images").get(0);
        String k8sImage = images.path("newName").asText() + ":" + images.path("newTag").asText();
        for (String s : SERVICES) {
            assertThat(compose.path(s).path("image").asText()).as("compose " + s + " image").isEqualTo(k8sImage);
            assertThat(compose.path(s).path("build").path("dockerfile").asText()).isEqualTo("deploy/docker/Dockerfile");
        }
        assertThat(DeployFiles.ROOT.resolve("deploy/docker/Dockerfile")).isRegularFile();
        // Kafka: the broker version the clients are built against, on every node (more in ComposeKafkaTest)
        String kafkaVersion = pomProperty("kafka.version");
        for (String node : List.of("kafka-1", "kafka-2", "kafka-3")) {
            assertThat(compose.path(node).path("image").asText()).as(node).isEqualTo("apache/kafka:" + kafkaVersion);
        }

        Map<String, Integer> prometheusPorts = prometheusTargetPorts();
        assertThat(prometheusPorts.keySet()).containsExactlyInAnyOrderElementsOf(SERVICES);
        Properties composeProps = properties(DeployFiles.ROOT.resolve("deploy/compose/headwater.properties"));
        Properties k8sProps = properties(K8S.resolve("base/headwater.properties"));
        for (String s : SERVICES) {
            int port = prometheusPorts.get(s);
            // compose: the port the service listens on (config or -D), the published container port, the health check
            List<String> composeCommand = new ArrayList<>();
            compose.path(s).path("command").forEach(a -> composeCommand.add(a.asText()));
            assertThat(listenPort(composeCommand, composeProps, s)).as("compose " + s + " listens on").isEqualTo(port);
            assertThat(compose.path(s).path("ports")).as("compose " + s + " ports")
                    .anySatisfy(p -> assertThat(p.asText()).startsWith("127.0.0.1:").endsWith(":" + port));
            assertThat(compose.path(s).path("healthcheck").path("test").toString()).contains("localhost:" + port + "/health");
            // k8s: the listen port, containerPort and the scrape annotation
            JsonNode workload = DeployFiles.readYamlDocuments(K8S.resolve("base/" + s + ".yaml")).get(0);
            JsonNode container = workload.path("spec").path("template").path("spec").path("containers").get(0);
            assertThat(container.path("image").asText()).isEqualTo(images.path("name").asText());
            assertThat(listenPort(args(workload), k8sProps, s)).as("k8s " + s + " listens on").isEqualTo(port);
            assertThat(container.path("ports").get(0).path("containerPort").asInt()).as("k8s " + s + " containerPort")
                    .isEqualTo(port);
            JsonNode annotations = workload.path("spec").path("template").path("metadata").path("annotations");
            assertThat(annotations.path("prometheus.io/scrape").asText()).isEqualTo("true");
            assertThat(annotations.path("prometheus.io/port").asText()).as("k8s " + s + " scrape port")
                    .isEqualTo(Integer.toString(port));
            assertThat(annotations.path("prometheus.io/path").asText()).isEqualTo("/metrics");
        }
        // every published compose port is on the loopback interface only
        compose.properties().forEach(e -> e.getValue().path("ports").forEach(p ->
                assertThat(p.asText()).as("compose " + e.getKey() + " port").startsWith("127.0.0.1:")));
    }

    @Test
    void shouldProvisionGrafanaWithTheDatasourceAndDashboardsItUses() throws IOException {
        JsonNode ds = DeployFiles.readYaml(DeployFiles.DEPLOY.resolve("grafana/provisioning/datasources/prometheus.yml"))
                .path("datasources").get(0);
        JsonNode provider = DeployFiles.readYaml(DeployFiles.DEPLOY.resolve("grafana/provisioning/dashboards/headwater.yml"))
                .path("providers").get(0);
        JsonNode grafana = DeployFiles.readYaml(DeployFiles.COMPOSE).path("services").path("grafana");
        assertThat(grafana.path("volumes")).extracting(JsonNode::asText)
                .contains("./deploy/grafana/dashboards:" + provider.path("options").path("path").asText() + ":ro",
                        "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro");
        assertThat(ds.path("url").asText()).isEqualTo("http://prometheus:9090");
        Set<String> uids = new TreeSet<>();
        Set<String> titles = new TreeSet<>();
        for (Path d : DeployFiles.dashboards()) {
            JsonNode dash = DeployFiles.JSON.readTree(d.toFile());
            assertThat(uids.add(dash.path("uid").asText())).as(d + " uid is unique").isTrue();
            titles.add(dash.path("title").asText());
            Set<String> vars = new TreeSet<>();
            dash.path("templating").path("list").forEach(v -> vars.add(v.path("name").asText()));
            assertThat(vars).as(d + " variables").contains("service", "instance");
            List<String> datasourceUids = dash.findValues("datasource").stream()
                    .map(n -> n.path("uid").asText()).distinct().toList();
            assertThat(datasourceUids).as(d + " datasources").containsExactly(ds.path("uid").asText());
        }
        assertThat(titles).hasSize(3);
    }

    private static int listenPort(List<String> args, Properties file, String service) {
        String key = service.equals("serving") ? "serving.port" : "metrics.port";
        for (String a : args) {
            Matcher m = PORT_FLAG.matcher(a);
            if (m.matches() && m.group(1).equals(key)) {
                return Integer.parseInt(m.group(2));
            }
        }
        assertThat(file.getProperty(key)).as(key + " of " + service).isNotNull();
        return Integer.parseInt(file.getProperty(key));
    }

    private static Map<String, Integer> prometheusTargetPorts() {
        Map<String, Integer> out = new HashMap<>();
        for (JsonNode job : DeployFiles.prometheusConfig().path("scrape_configs")) {
            String target = job.path("static_configs").get(0).path("targets").get(0).asText();
            String name = job.path("job_name").asText();
            assertThat(target).as("prometheus job " + name + " targets the compose service").startsWith(name + ":");
            assertThat(job.path("static_configs").get(0).path("labels").path("service").asText()).isEqualTo(name);
            out.put(name, Integer.parseInt(target.substring(target.indexOf(':') + 1)));
        }
        return out;
    }

    private static List<String> args(JsonNode workload) {
        List<String> out = new ArrayList<>();
        workload.path("spec").path("template").path("spec").path("containers").get(0).path("args")
                .forEach(a -> out.add(a.asText()));
        return out;
    }

    private static Properties properties(Path file) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(file)) {
            p.load(in);
        }
        return p;
    }

    private static String pomProperty(String name) throws IOException {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(
                Files.readString(DeployFiles.ROOT.resolve("pom.xml")));
        assertThat(m.find()).as(name + " in pom.xml").isTrue();
        return m.group(1);
    }

    private static List<Path> yamlFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return new ArrayList<>(s.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
                    .sorted().toList());
        }
    }
}
