"""The vLLM manifests: valid Kubernetes, and in agreement with the model catalog."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml
from chatbot.llm.catalog import load_config
from conftest import BACKEND, DEPLOY

K8S_VERSION = "1.37.0"
MANIFEST = DEPLOY / "vllm" / "vllm.yaml"


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def deployment() -> dict[str, Any]:
    return next(d for d in documents() if d["kind"] == "Deployment")


def flags(container: dict[str, Any]) -> dict[str, str]:
    return dict(a.removeprefix("--").partition("=")[::2] for a in container["args"][1:])


def test_manifests_validate_against_the_kubernetes_schema() -> None:
    kinds = []
    for doc in documents():
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        kinds.append(doc["kind"])
    assert {"Deployment", "Service", "PersistentVolumeClaim", "NetworkPolicy"} <= set(kinds)


def test_validation_catches_a_misplaced_gpu_request() -> None:
    broken = deployment()
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["gpus"] = container["resources"].pop("limits")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_server_flags_agree_with_the_catalog() -> None:
    scout = load_config(BACKEND / "config" / "llm.toml").model("llama-scout")
    container = deployment()["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["vllm", "serve"]
    assert container["args"][0] == scout.model  # the id the adapter sends
    options = flags(container)
    assert int(options["max-model-len"]) == scout.context_window
    assert "enable-auto-tool-choice" in options and options["tool-call-parser"]
    assert int(options["tensor-parallel-size"]) == int(
        container["resources"]["limits"]["nvidia.com/gpu"]
    )


def test_no_removed_or_deprecated_vllm_options() -> None:
    """guided_* options were removed in vLLM 0.12 and are now silently ignored."""
    text = MANIFEST.read_text()
    for gone in ("guided-decoding", "guided_json", "vllm.entrypoints.openai.api_server"):
        assert gone not in text


def test_pod_is_locked_down_and_probed() -> None:
    spec = deployment()["spec"]["template"]["spec"]
    container = spec["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["VLLM_API_KEY"]["valueFrom"]  # never a literal key
    assert env["HF_HUB_OFFLINE"]["value"] == "1"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600  # model load
    shm = next(v for v in spec["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"]["medium"] == "Memory"
    strategy = deployment()["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxSurge"] == 0


def test_only_the_api_may_reach_vllm() -> None:
    policies = {d["metadata"]["name"]: d for d in documents() if d["kind"] == "NetworkPolicy"}
    ingress = policies["vllm-ingress"]["spec"]["ingress"][0]
    assert ingress["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "chatbot-api"}}}
    ]
    egress = policies["chatbot-api-to-vllm"]["spec"]["egress"][0]
    assert egress["ports"] == [{"port": 8000, "protocol": "TCP"}]
