"""Chapter 12.3: the SLO file, the burn-rate rules generated from it, and their arithmetic."""

from __future__ import annotations

import importlib

import promql_parser
import pytest
import yaml
from chatbot.observability import slo
from chatbot.observability.semconv import CLIENT_TOKEN_USAGE, PROVIDER_NAME


def test_committed_rules_match_the_slo_file() -> None:
    assert slo.RULES_FILE.read_text(encoding="utf-8") == slo.render(*slo.load()), (
        "slo-rules.yaml is stale: run `python -m chatbot.observability.slo` and commit it"
    )


def test_thresholds_are_burn_rate_times_error_budget() -> None:
    slos, alerts = slo.load()
    document = yaml.safe_load(slo.RULES_FILE.read_text())
    rules = {r.get("alert") or r["record"]: r for g in document["groups"] for r in g["rules"]}
    availability = next(s for s in slos if s.name == "availability")
    assert availability.budget == pytest.approx(0.005)
    fast = rules["ChatbotAvailabilityBudgetFastBurn"]["expr"]
    assert "ratio_rate1h > 0.072" in fast and "ratio_rate5m > 0.072" in fast  # 14.4 x 0.5 %
    assert "ratio_rate6h > 0.03" in fast and "ratio_rate30m > 0.03" in fast  # 6 x 0.5 %
    slow = rules["ChatbotTtftBudgetSlowBurn"]["expr"]
    assert "ratio_rate1d > 0.15" in slow and "ratio_rate3d > 0.05" in slow  # 3 and 1 x 5 %
    assert rules["ChatbotAvailabilityBudgetFastBurn"]["labels"]["severity"] == "page"
    assert rules["ChatbotTtftBudgetSlowBurn"]["labels"]["severity"] == "ticket"
    assert {a.severity for a in alerts} == {"page", "ticket"}


def test_every_window_ratio_is_recorded_parsed_and_used() -> None:
    document = yaml.safe_load(slo.RULES_FILE.read_text())
    recorded, referenced = set(), set()
    for group in document["groups"]:
        for rule in group["rules"]:
            ast = promql_parser.parse(rule["expr"])
            if "record" in rule:
                recorded.add(rule["record"])
            else:
                referenced |= set(rule["expr"].replace("(", " ").replace(")", " ").split()) & {
                    r for r in recorded
                }
                assert isinstance(ast, promql_parser.BinaryExpr)  # (a and b) or (c and d)
    assert recorded == referenced
    assert len(recorded) == 2 * 7  # two SLOs, windows 5m 30m 1h 2h 6h 1d 3d


def test_budget_consumed_before_each_alert_fires() -> None:
    """Burn rate x long window / period: the share of the month's budget already spent."""
    _, alerts = slo.load()
    spent = {a.long: a.burn_rate * slo._seconds(a.long) / (30 * 86400) for a in alerts}
    assert spent == pytest.approx({"1h": 0.02, "6h": 0.05, "1d": 0.10, "3d": 0.10})


def test_semantic_convention_names_are_current() -> None:
    """Our constants against the semconv package while it still ships GenAI names."""
    # locked test dependencies: a missing one must fail, not skip
    attributes = importlib.import_module(
        "opentelemetry.semconv._incubating.attributes.gen_ai_attributes"
    )
    metrics = importlib.import_module("opentelemetry.semconv._incubating.metrics.gen_ai_metrics")
    assert PROVIDER_NAME == attributes.GEN_AI_PROVIDER_NAME
    assert CLIENT_TOKEN_USAGE == metrics.GEN_AI_CLIENT_TOKEN_USAGE
    from chatbot.observability import semconv

    names = {v for k, v in vars(semconv).items() if k.isupper() and isinstance(v, str)}
    known = {v for k, v in vars(attributes).items() if k.startswith("GEN_AI_")}
    known |= {v for k, v in vars(metrics).items() if k.startswith("GEN_AI_")}
    assert names - known == {"error.type"}
    assert not names & {"gen_ai.system", "gen_ai.usage.prompt_tokens", "gen_ai.prompt"}
