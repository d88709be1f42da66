"""OpenTelemetry Collector config, Prometheus rules and the Grafana dashboard.

PromQL goes through a real parser (promql-parser), and the files must agree with each
other: the dashboard plots the series the rules record or alert on.
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import promql_parser
import pytest
import yaml
from conftest import OBSERVABILITY

COLLECTOR = OBSERVABILITY / "otel" / "collector.yaml"
RULES = OBSERVABILITY / "prometheus" / "chatbot-rules.yaml"
SLO_RULES = OBSERVABILITY / "prometheus" / "slo-rules.yaml"  # generated from slo/slos.toml
DASHBOARD = OBSERVABILITY / "grafana" / "chatbot-api.json"
DURATION = re.compile(r"^\d+[smhd]$")


def series(expr: Any) -> set[str]:
    """Every metric name an expression selects, found by walking the parsed AST."""
    if isinstance(expr, promql_parser.VectorSelector):
        return {expr.name} if expr.name else set()
    if isinstance(expr, promql_parser.MatrixSelector):
        return series(expr.vector_selector)
    if isinstance(expr, promql_parser.BinaryExpr):
        return series(expr.lhs) | series(expr.rhs)
    if isinstance(expr, promql_parser.Call):
        return set().union(*(series(a) for a in expr.args))
    if isinstance(expr, promql_parser.AggregateExpr | promql_parser.ParenExpr):
        return series(expr.expr) | (series(expr.param) if getattr(expr, "param", None) else set())
    if isinstance(expr, promql_parser.SubqueryExpr | promql_parser.UnaryExpr):
        return series(expr.expr)
    return set()


def rules() -> list[dict[str, Any]]:
    """Every rule Prometheus loads: the hand-written file and the generated SLO rules."""
    documents = [yaml.safe_load(path.read_text()) for path in (RULES, SLO_RULES)]
    return [
        rule for document in documents for group in document["groups"] for rule in group["rules"]
    ]


def test_collector_pipelines_use_defined_components_in_a_safe_order() -> None:
    config = yaml.safe_load(COLLECTOR.read_text())
    service = config["service"]
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for name, pipeline in service["pipelines"].items():
        assert name.split("/")[0] in {"traces", "metrics", "logs"}
        for kind in used:
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"{name} uses undefined {kind}: {component}"
                used[kind].add(component)
        processors = pipeline["processors"]
        assert processors[0] == "memory_limiter", "memory_limiter must run first"
        assert processors[-1] == "batch", "batch must run last"
    for kind, names in used.items():
        assert set(config[kind]) == names, f"defined but unused {kind}"
    assert set(service["extensions"]) == set(config["extensions"])


def test_collector_drops_message_content_from_traces() -> None:
    config = yaml.safe_load(COLLECTOR.read_text())
    traces = config["service"]["pipelines"]["traces"]["processors"]
    dropping = [p for p in traces if p.startswith("attributes")]
    deleted = {
        a["key"]
        for p in dropping
        for a in config["processors"][p]["actions"]
        if a["action"] == "delete"
    }
    assert {"gen_ai.input.messages", "gen_ai.output.messages"} <= deleted


def test_every_rule_expression_parses_as_promql() -> None:
    for rule in rules():
        promql_parser.parse(rule["expr"])


def test_the_parser_rejects_broken_promql() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(http_server_request_duration_seconds_count[5m])")


def test_alerts_are_complete() -> None:
    alerts = [r for r in rules() if "alert" in r]
    assert alerts
    names = [a["alert"] for a in alerts]
    assert len(names) == len(set(names)), "duplicate alert names"
    for alert in alerts:
        assert re.fullmatch(r"Chatbot[A-Z]\w+", alert["alert"])
        assert DURATION.match(alert["for"])
        assert alert["labels"]["severity"] in {"page", "ticket"}
        assert alert["annotations"]["summary"]
        if alert["labels"]["severity"] == "page" or "runbook_url" in alert["annotations"]:
            assert alert["annotations"]["runbook_url"].endswith(alert["alert"])
    for record in (r for r in rules() if "record" in r):
        assert re.fullmatch(r"\w+:\w+:\w+", record["record"]), "level:metric:operations"


def test_recording_rules_are_used_and_used_rules_exist() -> None:
    recorded = {r["record"] for r in rules() if "record" in r}
    referenced = set().union(*(series(promql_parser.parse(r["expr"])) for r in rules()))
    panels_use = set().union(*(series(promql_parser.parse(e)) for e in dashboard_exprs()))
    for name in referenced | panels_use:
        if ":" in name:
            assert name in recorded, f"{name} is not recorded by any rule"
    assert recorded <= referenced | panels_use, "a recording rule nobody reads"


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_dashboard_is_importable_and_plots_what_the_rules_watch() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"].removeprefix("${").removesuffix("}") in variables
        assert panel["targets"], panel["title"]
    plotted = set().union(*(series(promql_parser.parse(e)) for e in dashboard_exprs()))
    watched = set().union(*(series(promql_parser.parse(r["expr"])) for r in rules()))
    raw = {name for name in watched if ":" not in name}
    recorded = {r["record"] for r in rules() if "record" in r}
    assert plotted <= raw | recorded, f"plotted but never alerted on: {plotted - raw - recorded}"


def test_dashboard_survives_the_grafana_foundation_sdk_model() -> None:
    """Grafana's own generated dashboard types: a misspelt key is dropped, so it shows."""
    # locked test dependencies: a missing one must fail, not skip
    models = importlib.import_module("grafana_foundation_sdk.models.dashboard")
    encoder = importlib.import_module("grafana_foundation_sdk.cog.encoder")
    original = json.loads(DASHBOARD.read_text())
    model = models.Dashboard.from_json(original)
    again = json.loads(json.dumps(model, cls=encoder.JSONEncoder))
    assert set(original) <= set(again)
    for before, after in zip(original["panels"], again["panels"], strict=True):
        assert set(before) <= set(after), before["title"]
        assert before["targets"] == after["targets"]
        assert before["gridPos"] == after["gridPos"]
    cells = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in original["panels"]]
    assert len(cells) == len(set(cells)), "panels on top of each other"
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in original["panels"])
