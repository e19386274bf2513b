#!/usr/bin/env python3
"""Writes the Grafana dashboards in deploy/grafana/dashboards/ (run: python3 deploy/grafana/make-dashboards.py [DIR]).

The dashboards are generated so that every panel uses the same filters, units and layout; edit
this file, not the JSON, and commit both. Metric names are the Prometheus forms of Headwater's
Micrometer meters (see docs/metrics.md); tests/.../PrometheusScrapeIT evaluates every
expression here against a running demo.
"""
import json
import os
import sys

DS = {"type": "prometheus", "uid": "prometheus"}
# Every Headwater meter has the tags service (common tag) and instance (added by Prometheus).
F = 'service=~"$service", instance=~"$instance"'
RI = "$__rate_interval"
# Kafka Streams names its clients <application id>-<uuid>-StreamThread-N-consumer (and a
# -restore-consumer per state updater); every other consumer is the extractor's or a model client's.
STREAMS_CONSUMER = 'client_id=~".*-StreamThread-[0-9]+-consumer"'
STREAMS_CONSUMER_NOT = 'client_id!~".*-StreamThread-[0-9]+-consumer|.*-restore-consumer"'


def var(name, label, query, multi=True):
    return {
        "name": name, "label": label, "type": "query", "datasource": DS,
        "query": query, "definition": query, "refresh": 2, "includeAll": True, "allValue": ".*", "multi": multi,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1, "options": [],
    }


SERVICE = var("service", "service", "label_values(jvm_memory_used_bytes, service)")
INSTANCE = var("instance", "instance", 'label_values(jvm_memory_used_bytes{service=~"$service"}, instance)')
TASK = var("task", "task", 'label_values(headwater_trainer_accuracy{service=~"$service"}, task)')


class Layout:
    """Places panels left to right in rows of 24 grid units."""

    def __init__(self):
        self.x, self.y, self.row_h, self.next_id, self.panels = 0, 0, 0, 1, []

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "title": title, "id": self._id(), "collapsed": False,
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}, "panels": []})
        self.y += 1

    def add(self, panel, w=12, h=8):
        if self.x + w > 24:
            self._newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)

    def _newline(self):
        if self.x > 0:
            self.y += self.row_h
        self.x, self.row_h = 0, 0

    def _id(self):
        self.next_id += 1
        return self.next_id - 1


def targets(queries, instant=False, fmt="time_series"):
    out = []
    for i, (expr, legend) in enumerate(queries):
        t = {"datasource": DS, "refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "range": not instant,
             "instant": instant, "format": fmt}
        out.append(t)
    return out


def timeseries(title, description, queries, unit="short", stack=False, bars=False, decimals=None):
    custom = {"drawStyle": "bars" if bars else "line", "lineWidth": 1, "fillOpacity": 60 if bars else 10,
              "showPoints": "never", "spanNulls": True,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
    defaults = {"unit": unit, "custom": custom}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {"type": "timeseries", "title": title, "description": description, "datasource": DS,
            "targets": targets(queries), "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title, description, queries, unit="short", decimals=None, thresholds=None):
    defaults = {"unit": unit, "thresholds": {"mode": "absolute", "steps": thresholds or [{"color": "green", "value": None}]}}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {"type": "stat", "title": title, "description": description, "datasource": DS,
            "targets": targets(queries, instant=True),
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "textMode": "auto"}}


def table(title, description, expr, columns):
    """An instant query shown as one row per series, with the given labels as columns."""
    hidden = {"Time": True, "Value": True, "__name__": True}
    return {"type": "table", "title": title, "description": description, "datasource": DS,
            "targets": targets([(expr, "")], instant=True, fmt="table"),
            "transformations": [{"id": "organize", "options": {
                "excludeByName": hidden, "indexByName": {c: i for i, c in enumerate(columns)}}}],
            "fieldConfig": {"defaults": {}, "overrides": []}, "options": {"showHeader": True}}


def quantiles(metric, qs=(0.5, 0.99), by=""):
    group = "le" + (", " + by if by else "")
    prefix = "{{" + by + "}} " if by else ""
    return [(f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{F}}}[{RI}])))",
             f"{prefix}p{int(q * 100)}") for q in qs]


def dashboard(uid, title, description, layout, variables, tags):
    return {
        "uid": uid, "title": title, "description": description, "tags": ["headwater"] + tags,
        "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"}, "timezone": "", "fiscalYearStartMonth": 0,
        "templating": {"list": variables}, "annotations": {"list": []}, "links": [
            {"type": "dashboards", "tags": ["headwater"], "asDropdown": True, "title": "Headwater",
             "includeVars": True, "keepTime": True}],
        "panels": layout.panels,
    }


def pipeline():
    p = Layout()
    p.row("Throughput")
    p.add(timeseries("Throughput per stage", "Records per second through each stage: examples the extractor consumed, "
                     "feature records it wrote, examples dead-lettered, examples the trainer learned.", [
        (f"sum(rate(headwater_extractor_examples_total{{{F}}}[{RI}]))", "examples consumed"),
        (f"sum(rate(headwater_extractor_features_records_total{{{F}}}[{RI}]))", "features written"),
        (f"sum(rate(headwater_extractor_dlq_total{{{F}}}[{RI}]))", "dead-lettered"),
        (f"sum(rate(headwater_trainer_examples_total{{{F}}}[{RI}]))", "examples learned"),
    ], unit="reqps"), w=16)
    p.add(stat("Scrape targets up", "Targets Prometheus scrapes successfully, per job.", [
        (f"sum by (job) (up{{{F}}})", "{{job}}")], thresholds=[{"color": "red", "value": None},
                                                             {"color": "green", "value": 1}]), w=8)
    p.add(timeseries("Consumer lag", "Most records any partition of each consumer is behind (records-lag-max): "
                     "the extractor's (and any model client's) consumers, and the Kafka Streams consumers of trainer "
                     "and registry. Growing lag with flat throughput means the stage is at capacity.", [
        (f'max by (service, instance) (kafka_consumer_fetch_manager_records_lag_max{{{STREAMS_CONSUMER_NOT}, {F}}})',
         "{{service}} {{instance}}"),
        (f'max by (service, client_id) (kafka_consumer_fetch_manager_records_lag_max{{{STREAMS_CONSUMER}, {F}}})',
         "{{service}} {{client_id}}")]))
    p.add(timeseries("Dead letters by reason", "Examples sent to examples.dlq per interval, by reason "
                     "(json, schema, key, empty, vector, backbone, produce).", [
        (f"sum by (reason) (increase(headwater_extractor_dlq_total{{{F}}}[{RI}]))", "{{reason}}")],
        bars=True, stack=True))
    p.row("Health")
    p.add(timeseries("Stage live", "1 while a stage runs and makes progress (or has nothing to do), 0 when it "
                     "stopped or is stuck: input waiting and no progress for health.stall.timeout.ms. The same as "
                     "/health/live of each process.", [
        (f"min by (service, instance, stage) (headwater_health_live{{{F}}})", "{{service}} {{stage}}")],
        ), w=8)
    p.add(timeseries("Stage input waiting", "Input records waiting for each loop (extractor, model clients), as "
                     "the loop last saw them: it keeps its last value when the loop stops.", [
        (f"max by (service, instance, stage) (headwater_stage_lag_records{{{F}}})", "{{service}} {{stage}}")]), w=8)
    p.add(timeseries("Retries and restarts", "Extractor transactional calls retried after a timeout, transactions "
                     "aborted, and Kafka Streams threads replaced, per interval.", [
        (f"sum(increase(headwater_extractor_calls_retried_total{{{F}}}[{RI}]))", "calls retried"),
        (f"sum(increase(headwater_extractor_transactions_aborted_total{{{F}}}[{RI}]))", "transactions aborted"),
        (f"sum by (stage) (increase(headwater_streams_threads_replaced_total{{{F}}}[{RI}]))", "{{stage}} threads replaced")],
        bars=True), w=8)
    p.row("Extractor and backbone")
    p.add(timeseries("Backbone latency per batch", "Time to embed one batch's uncached texts: percentiles.",
                     quantiles("headwater_extractor_backbone_latency_seconds", (0.5, 0.95, 0.99)), unit="s"), w=8)
    p.add(timeseries("Batch size", "Valid examples per extractor transaction: percentiles and mean.",
                     quantiles("headwater_extractor_batch_size_examples") + [
        (f"sum(rate(headwater_extractor_batch_size_examples_sum{{{F}}}[{RI}])) / "
         f"sum(rate(headwater_extractor_batch_size_examples_count{{{F}}}[{RI}]))", "mean")]), w=8)
    p.add(timeseries("Backbone work", "Texts run through the backbone, texts whose embedding came from the cache, "
                     "and examples that carried their own vector, per second.", [
        (f"sum(rate(headwater_extractor_backbone_texts_total{{{F}}}[{RI}]))", "backbone"),
        (f"sum(rate(headwater_extractor_cache_hits_total{{{F}}}[{RI}]))", "cache hits"),
        (f"sum(rate(headwater_extractor_vectors_total{{{F}}}[{RI}]))", "own vectors")], unit="reqps"), w=8)
    p.add(table("Execution provider", "The backbone each extractor runs and where (cpu or cuda:N), row by row or "
                "in padded batches.", f"headwater_extractor_backbone_info{{{F}}}",
                ["instance", "service", "backbone", "provider", "execution", "sha256"]), w=16, h=6)
    p.add(stat("Transactions aborted", "Extractor transactions aborted and re-read in the selected range.", [
        (f"sum(increase(headwater_extractor_transactions_aborted_total{{{F}}}[$__range]))", "")],
        thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}]), w=8, h=6)
    p.row("Kafka Streams and JVM")
    p.add(timeseries("Kafka Streams records processed", "Records per second processed by each Kafka Streams "
                     "client (trainer, registry).", [
        (f"sum by (service, instance, client_id) (kafka_stream_thread_process_rate{{{F}}})", "{{service}} {{client_id}}")],
        unit="reqps"), w=8)
    p.add(timeseries("Heap used", "JVM heap in use per process.", [
        (f'sum by (service, instance) (jvm_memory_used_bytes{{area="heap", {F}}})', "{{service}} {{instance}}")],
        unit="bytes"), w=8)
    p.add(timeseries("Process CPU", "CPU use of each process (1 = all cores).", [
        (f"max by (service, instance) (process_cpu_usage{{{F}}})", "{{service}} {{instance}}")], unit="percentunit"), w=8)
    return dashboard("headwater-pipeline", "Headwater / Pipeline",
                     "Examples to features to learned examples: throughput, lag, dead letters, backbone.",
                     p, [SERVICE, INSTANCE], ["pipeline"])


def learning():
    p = Layout()
    p.row("Accuracy")
    p.add(timeseries("Windowed accuracy per task and head", "Test-then-train accuracy over each task's last "
                     "trainer.accuracy.window predictions, each made before the example was learned.", [
        (f'max by (task, head) (headwater_trainer_accuracy{{task=~"$task", {F}}})', "{{task}} {{head}}")],
        unit="percentunit", decimals=3), w=16, h=10)
    p.add(stat("Tasks", "Tasks with an accuracy gauge (the trainer caps the number of task tags; the rest are "
               "reported as task=\"_other\").", [
        (f'count(count by (task) (headwater_trainer_accuracy{{task=~"$task", {F}}}))', "")]), w=8, h=5)
    p.add(stat("Online accuracy", "Share of test-then-train predictions that were right, all tasks, over the "
               "rate interval.", [
        (f"sum(rate(headwater_trainer_predictions_correct_total{{{F}}}[{RI}])) / "
         f"sum(rate(headwater_trainer_examples_total{{{F}}}[{RI}]))", "")], unit="percentunit", decimals=3), w=8, h=5)
    p.row("Learning")
    p.add(timeseries("Examples learned per head type", "Examples learned per second, by head type.", [
        (f"sum by (head) (rate(headwater_trainer_examples_total{{{F}}}[{RI}]))", "{{head}}")], unit="reqps"), w=8)
    p.add(timeseries("Drift detections", "Changes in a task's accuracy found by the drift detector, by head type.", [
        (f"sum by (head) (increase(headwater_trainer_drift_detections_total{{{F}}}[{RI}]))", "{{head}}")],
        bars=True), w=8)
    p.add(timeseries("Trainer dead letters by reason", "Feature records sent to features.dlq per interval, by "
                     "reason: key, empty, decode, non_finite, dimension, backbone (another backbone than the task's), "
                     "duplicate (an example id learned already), head (a head failed on it), state.", [
        (f"sum by (reason) (increase(headwater_trainer_dlq_total{{{F}}}[{RI}]))", "{{reason}}")],
        bars=True, stack=True), w=8)
    p.add(timeseries("Time in heads per example", "Wall time the trainer's stream threads spent in heads per "
                     "example learned, by head type and phase: test_then_train (predict, then learn) and export "
                     "(building candidates). The rest of a stream thread's time per example is Kafka Streams: "
                     "fetching, decoding, deduplicating, committing.", [
        (f"sum by (head, phase) (rate(headwater_trainer_head_seconds_total{{{F}}}[{RI}])) / on (head) group_left "
         f"sum by (head) (rate(headwater_trainer_examples_total{{{F}}}[{RI}]))", "{{head}} {{phase}}")],
        unit="s"), w=8)
    p.row("Versions")
    p.add(timeseries("Candidates proposed per head type", "Candidate versions the trainer proposed per interval.", [
        (f"sum by (head) (increase(headwater_trainer_candidates_total{{{F}}}[{RI}]))", "{{head}}")], bars=True))
    p.add(timeseries("Versions published", "Versions the registry published per interval, and the total so far.", [
        (f"sum(increase(headwater_registry_published_total{{{F}}}[{RI}]))", "published"),
        (f"sum(headwater_registry_published_total{{{F}}})", "total")]))
    return dashboard("headwater-learning", "Headwater / Learning",
                     "Accuracy per task and head, drift, candidates and versions.",
                     p, [SERVICE, INSTANCE, TASK], ["learning"])


def registry():
    p = Layout()
    p.row("Registry")
    p.add(timeseries("Versions published and promoted", "Per interval: versions published to model-updates, "
                     "and versions promoted.", [
        (f"sum(increase(headwater_registry_published_total{{{F}}}[{RI}]))", "published"),
        (f"sum(increase(headwater_registry_promoted_total{{{F}}}[{RI}]))", "promoted")], bars=True), w=8)
    p.add(timeseries("Rejections by reason", "Candidates the registry rejected per interval, by reason (invalid, "
                     "gate, floor, min_examples, paused, pinned).", [
        (f"sum by (reason) (increase(headwater_registry_rejected_total{{{F}}}[{RI}]))", "{{reason}}")],
        bars=True, stack=True), w=8)
    p.add(timeseries("Rollbacks", "Tasks rolled back to an earlier version, per interval.", [
        (f"sum(increase(headwater_registry_rollbacks_total{{{F}}}[{RI}]))", "rollbacks")], bars=True), w=8)
    p.add(timeseries("Registry dead letters by reason", "Candidates and commands sent to registry.dlq per "
                     "interval, by reason (key, invalid, command).", [
        (f"sum by (reason) (increase(headwater_registry_dlq_total{{{F}}}[{RI}]))", "{{reason}}")],
        bars=True, stack=True), w=8)
    p.add(timeseries("Example to version", "Time from the oldest example in a version to the version's "
                     "publication: percentiles.", quantiles("headwater_registry_example_to_version_seconds"),
                     unit="s"), w=16)
    p.add(stat("Since last publication", "Time since the registry last published a version.", [
        (f"time() - max(headwater_registry_last_published_seconds{{{F}}})", "")], unit="s",
        thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 3600}]), w=8)
    p.row("Consumers")
    p.add(timeseries("Freshness: publication to client swap", "Time from a version's publication to a client "
                     "(serving) serving it: percentiles per service.",
                     quantiles("headwater_client_swap_latency_seconds", by="service"), unit="s"), w=8)
    p.add(timeseries("Client swaps and refusals", "Versions clients swapped in, and updates they refused by reason "
                     "(format, checksum, artifact, backbone), per interval.", [
        (f"sum(increase(headwater_client_swaps_total{{{F}}}[{RI}]))", "swapped in"),
        (f"sum by (reason) (increase(headwater_client_refused_total{{{F}}}[{RI}]))", "refused: {{reason}}")],
        bars=True), w=8)
    p.add(timeseries("Serving throughput", "/predict requests per second by HTTP status.", [
        (f"sum by (status) (rate(headwater_serving_requests_total{{{F}}}[{RI}]))", "{{status}}")],
        unit="reqps", stack=True), w=8)
    p.add(timeseries("Serving latency", "Time to answer a /predict request: percentiles.",
                     quantiles("headwater_serving_latency_seconds", (0.5, 0.9, 0.99)), unit="s"), w=12)
    p.add(timeseries("Serving error ratio", "Share of /predict requests answered 4xx and 5xx.", [
        (f'sum(rate(headwater_serving_requests_total{{status=~"4..|5..", {F}}}[{RI}])) / '
         f"sum(rate(headwater_serving_requests_total{{{F}}}[{RI}]))", "errors")], unit="percentunit"), w=12)
    return dashboard("headwater-registry", "Headwater / Registry and consumers",
                     "Versions published, promoted, rejected and rolled back; how fast consumers get them; serving.",
                     p, [SERVICE, INSTANCE], ["registry", "serving"])


def main():
    # An other directory as the argument: for the test that the committed JSON is up to date.
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
    os.makedirs(out, exist_ok=True)
    for name, d in (("pipeline", pipeline()), ("learning", learning()), ("registry", registry())):
        with open(os.path.join(out, f"headwater-{name}.json"), "w") as f:
            json.dump(d, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
