"""Prometheus scrape config, alert rules and the Grafana dashboard agree with the code."""
from __future__ import annotations

import json
import re

import yaml
from prometheus_client import REGISTRY

from ecom_project.observability import metrics  # noqa: F401  (registers the pipeline metrics)
from tests.deploy.conftest import BASE_DIR

DEPLOY = BASE_DIR / "deploy"


def pipeline_metric_names() -> set[str]:
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    names = set()
    for family in REGISTRY.collect():  # a labelled metric has no sample before first use: names from the type
        names.update(family.name + suffix for suffix in suffixes.get(family.type, [""]))
    return {n for n in names if n.startswith("pipeline_")}


def queried_pipeline_metrics(expr: str) -> set[str]:
    return set(re.findall(r"\bpipeline_[a-z_]+", expr))


def test_prometheus_scrapes_web_and_every_replica_of_every_consumer(consumer_services):
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["web"]["static_configs"][0]["targets"] == ["web:8000"]
    discovery = jobs["consumers"]["dns_sd_configs"][0]
    assert sorted(discovery["names"]) == sorted(consumer_services)
    assert discovery["type"] == "A"
    for service in consumer_services.values():
        assert str(discovery["port"]) == service["environment"]["METRICS_PORT"]


def test_alert_rules_use_only_metrics_that_exist():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    known = pipeline_metric_names()
    assert len(rules) >= 8
    for rule in rules:
        assert rule["alert"] and rule["annotations"]["summary"] and rule["labels"]["severity"] in {"warning", "critical"}
        unknown = queried_pipeline_metrics(rule["expr"]) - known
        assert not unknown, f"{rule['alert']} queries unknown metrics {unknown}"


def test_dashboard_has_every_required_panel_and_known_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "order-pipeline.json").read_text())
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for required in ["orders by status", "events consumed per second", "handler latency", "dead letters",
                     "outbox backlog", "consumer lag", "saga duration"]:
        assert required in titles, f"no panel for {required}"
    known = pipeline_metric_names()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "prometheus"
        for target in panel["targets"]:
            unknown = queried_pipeline_metrics(target["expr"]) - known
            assert not unknown, f"panel {panel['title']!r} queries unknown metrics {unknown}"


def test_grafana_provisioning_points_at_the_dashboard_folder(compose):
    provider = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" / "pipeline.yml").read_text())
    datasource = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    mounted = {m.split(":")[1]: m.split(":")[0] for m in compose["services"]["grafana"]["volumes"]}
    assert mounted[provider["providers"][0]["options"]["path"]] == "./deploy/grafana/dashboards"
    assert datasource["datasources"][0]["uid"] == "prometheus"
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def test_runbook_explains_every_alert_and_metric():
    runbook = (BASE_DIR / "docs" / "operations.md").read_text()
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    for rule in rules:
        assert rule["alert"] in runbook, f"docs/operations.md does not explain {rule['alert']}"
    for family in REGISTRY.collect():
        if family.name.startswith("pipeline_"):
            assert family.name in runbook, f"docs/operations.md does not explain {family.name}"
