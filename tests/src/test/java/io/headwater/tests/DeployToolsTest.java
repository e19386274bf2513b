package io.headwater.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The deployment files checked by the tools that read them: promtool for the Prometheus config and
 * rules, docker-compose for docker-compose.yml, kubectl's kustomize for deploy/k8s, and the
 * dashboard generator for the committed dashboards. Each test skips
 * with a reason where its tool is not installed (Debian packages prometheus and docker-compose;
 * .ci/run installs them).
 */
class DeployToolsTest {

    @Test
    void shouldPassPromtoolCheckConfig() {
        Path promtool = tool("promtool", "Debian package prometheus");
        DeployFiles.Run r = DeployFiles.run(DeployFiles.ROOT, promtool.toString(), "check", "config",
                DeployFiles.PROMETHEUS_CONFIG.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("1 rule files found");
    }

    @Test
    void shouldPassPromtoolCheckRules() {
        Path promtool = tool("promtool", "Debian package prometheus");
        DeployFiles.Run r = DeployFiles.run(DeployFiles.ROOT, promtool.toString(), "check", "rules",
                DeployFiles.RULES.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).containsPattern("SUCCESS: \\d+ rules found");
    }

    @Test
    void shouldFireTheAlertsTheirUnitTestsExpect() {
        // A stage whose health gauge goes to 0 fires HeadwaterStageDown after its minute, not before.
        Path promtool = tool("promtool", "Debian package prometheus");
        DeployFiles.Run r = DeployFiles.run(DeployFiles.RULES.getParent(), promtool.toString(), "test", "rules",
                "rules-test.yml");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");
    }

    @Test
    void shouldPassDockerComposeConfig() {
        Path compose = tool("docker-compose", "Debian package docker-compose");
        DeployFiles.Run r = DeployFiles.run(DeployFiles.ROOT, compose.toString(), "-f",
                DeployFiles.COMPOSE.toString(), "config", "-q");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    @Test
    void shouldBuildEveryKustomization() {
        Path kubectl = tool("kubectl", "kubectl");
        for (String dir : List.of("base", "overlays/gpu", "overlays/prometheus-operator")) {
            DeployFiles.Run r = DeployFiles.run(DeployFiles.ROOT, kubectl.toString(), "kustomize",
                    DeployFiles.DEPLOY.resolve("k8s").resolve(dir).toString());
            assertThat(r.exitCode()).as(dir + ": " + r.output()).isZero();
            assertThat(r.output()).as(dir).contains("kind: StatefulSet", "kind: Deployment", "kind: ConfigMap");
        }
    }

    @Test
    void shouldHaveCommittedTheDashboardsTheGeneratorWrites() throws Exception {
        Path python = tool("python3", "Debian package python3");
        Path out = java.nio.file.Files.createTempDirectory("dashboards");
        DeployFiles.Run r = DeployFiles.run(DeployFiles.ROOT, python.toString(),
                DeployFiles.DEPLOY.resolve("grafana/make-dashboards.py").toString(), out.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        for (Path committed : DeployFiles.dashboards()) {
            assertThat(out.resolve(committed.getFileName())).as(committed + " is what make-dashboards.py writes; "
                    + "run python3 deploy/grafana/make-dashboards.py").hasSameTextualContentAs(committed);
        }
        try (var generated = java.nio.file.Files.list(out)) {
            assertThat(generated.count()).isEqualTo(DeployFiles.dashboards().size());
        }
    }

    private static Path tool(String name, String where) {
        var path = DeployFiles.tool(name);
        Assumptions.assumeTrue(path.isPresent(), name + " is not installed (" + where + "); check skipped");
        return path.get();
    }
}
