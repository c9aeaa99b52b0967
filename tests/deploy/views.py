"""What deploy/topology.yaml, the compose file and the rendered Kubernetes manifests each say
about the product's services, reduced to one shape so they can be compared.

Every check returns a list of problems (empty: they agree) rather than asserting, so the
tests can run the same check on a mutated copy and expect it to complain.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# The script every image carries for health checks (deploy/docker/healthcheck.py).
HEALTHCHECK_SCRIPT = "/usr/local/bin/healthcheck.py"
SECRET_NAME = "yibao-secrets"  # the Secret the manifests reference; never part of them
# Compose's own secret on top of topology.yaml's: PostgreSQL runs inside the compose project.
COMPOSE_SECRETS = frozenset({"POSTGRES_PASSWORD"})
INTERPOLATED = "INTERPOLATED"
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


@dataclass
class ServiceView:
    """One service as one deployment describes it."""

    ports: set[int] = field(default_factory=set)  # every port the service is reached on
    health: set[str] = field(default_factory=set)  # every path its health checks request
    env: set[str] = field(default_factory=set)  # names of the variables it is given
    public: bool = False  # reachable from outside (published port, Ingress, no NetworkPolicy)


@dataclass(frozen=True)
class Topology:
    services: dict[str, dict[str, Any]]
    backing: dict[str, dict[str, Any]]
    secrets: frozenset[str]

    @classmethod
    def from_yaml(cls, data: dict[str, Any]) -> Topology:
        return cls(services=data["services"], backing=data["backing"],
                   secrets=frozenset(data["secrets"]))

    def env(self, service: str) -> set[str]:
        return set(self.services[service]["env"])


# --- shared helpers ----------------------------------------------------------------------

def command_words(command: Any) -> list[str]:
    """A command (list or string) as words; `sh -c "..."` is split once more."""
    if command is None:
        return []
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    if len(words) >= 3 and words[0] in ("sh", "/bin/sh", "bash") and words[1] == "-c":
        return words[:2] + shlex.split(words[2])
    return words


def flag_values(words: list[str], flag: str) -> list[str]:
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w == flag]


def probe_url(words: list[str]) -> str | None:
    """The URL a health-check command requests through healthcheck.py, if it does."""
    if HEALTHCHECK_SCRIPT not in words:
        return None
    rest = words[words.index(HEALTHCHECK_SCRIPT) + 1:]
    return rest[0] if rest else None


def add_url(view: ServiceView, url: str) -> None:
    parts = urlsplit(url)
    if parts.port is not None:
        view.ports.add(parts.port)
    view.health.add(parts.path)


def walk_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_strings(value)


def masked(text: str) -> str:
    """`text` with each ${NAME...} interpolation replaced by a URL-safe placeholder."""
    return _INTERPOLATION.sub(INTERPOLATED, text)


def literal_url_passwords(strings: Iterable[str]) -> list[str]:
    """URLs in `strings` whose password is written out instead of interpolated."""
    found = []
    for text in strings:
        for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"']+", masked(text)):
            password = urlsplit(url).password
            if password and password != INTERPOLATED:
                found.append(url)
    return found


def disagreements(topology: Topology, views: dict[str, ServiceView], source: str) -> list[str]:
    """Where a deployment's services differ from topology.yaml's."""
    problems = []
    for name, spec in topology.services.items():
        view = views.get(name)
        if view is None:
            problems.append(f"{source}: service {name} is missing")
            continue
        if view.ports != {spec["port"]}:
            problems.append(f"{source}: {name} ports {sorted(view.ports)} != [{spec['port']}]")
        if view.health != {spec["health"]}:
            problems.append(f"{source}: {name} health paths {sorted(view.health)} != "
                            f"[{spec['health']}]")
        if view.env != set(spec["env"]):
            problems.append(f"{source}: {name} env differs from topology.yaml: "
                            f"missing {sorted(set(spec['env']) - view.env)}, "
                            f"extra {sorted(view.env - set(spec['env']))}")
        if view.public != bool(spec["public"]):
            problems.append(f"{source}: {name} public={view.public}, topology.yaml says "
                            f"{spec['public']}")
    extra = set(views) - set(topology.services)
    if extra:
        problems.append(f"{source}: services not in topology.yaml: {sorted(extra)}")
    return problems


def internal_url_problems(values: dict[str, str], topology: Topology, source: str) -> list[str]:
    """RASA_URL and ACTION_SERVER_URL name the rasa / actions services on their ports."""
    problems = []
    wanted = {"RASA_URL": "rasa", "ACTION_SERVER_URL": "actions"}
    for var, service in wanted.items():
        if var not in values:
            problems.append(f"{source}: no value for {var}")
            continue
        for url in values[var].split(","):
            parts = urlsplit(url.strip())
            port = topology.services[service]["port"]
            if parts.hostname != service or parts.port != port:
                problems.append(f"{source}: {var}={url} is not {service}:{port}")
    return problems


# --- compose -------------------------------------------------------------------------------

def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def compose_views(compose: dict[str, Any], topology: Topology) -> dict[str, ServiceView]:
    views = {}
    for name, service in compose["services"].items():
        if name in topology.backing:
            continue
        view = ServiceView(env=set(compose_environment(service)), public=bool(service.get("ports")))
        view.ports.update(int(str(p).split("/")[0]) for p in service.get("expose") or [])
        for mapping in service.get("ports") or []:
            target = mapping["target"] if isinstance(mapping, dict) else str(mapping).rsplit(":", 1)[-1]
            view.ports.add(int(str(target).split("/")[0]))
        words = command_words(service.get("command"))
        view.ports.update(int(p) for p in flag_values(words, "--port"))
        url = probe_url(command_words((service.get("healthcheck") or {}).get("test")))
        if url:
            add_url(view, url)
        views[name] = view
    return views


def compose_secret_problems(compose: dict[str, Any], topology: Topology) -> list[str]:
    """Secrets reach containers only as ${NAME} from the .env file, never as values."""
    problems = []
    secrets = topology.secrets | COMPOSE_SECRETS
    for name, service in compose["services"].items():
        for var, value in compose_environment(service).items():
            if var in secrets:
                match = _INTERPOLATION.fullmatch(value)
                if not match or match.group(1) != var:
                    problems.append(f"compose: {name}.{var} is not ${{{var}}} from the env file")
    for url in literal_url_passwords(walk_strings(compose)):
        problems.append(f"compose: password written into {url}")
    return problems


def compose_variables(text: str) -> set[str]:
    """Names interpolated in a compose file's text."""
    return {m.group(1) for m in _INTERPOLATION.finditer(text)}


def env_file_entries(text: str) -> dict[str, str]:
    entries = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            entries[key.strip()] = value.strip()
    return entries


# --- Kubernetes (rendered) -----------------------------------------------------------------

def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def _container(deployment: dict[str, Any], name: str) -> dict[str, Any] | None:
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        if container["name"] == name:
            return container
    return None


def _resolve_port(port: int | str, container: dict[str, Any]) -> int | None:
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return None


def _fenced(pod_labels: dict[str, str], docs: list[dict[str, Any]]) -> bool:
    """A NetworkPolicy admits connections to these pods only from pods of this namespace."""
    for policy in by_kind(docs, "NetworkPolicy").values():
        spec = policy["spec"]
        selected = spec["podSelector"].get("matchLabels", {}).items() <= pod_labels.items()
        rules = spec.get("ingress") or []
        if selected and "Ingress" in spec.get("policyTypes", []) and all(
                rule.get("from") and all(set(peer) == {"podSelector"} for peer in rule["from"])
                for rule in rules):
            return True
    return False


def k8s_views(docs: list[dict[str, Any]]) -> tuple[dict[str, ServiceView], list[str]]:
    """Views of the Deployments (container named like the Deployment), plus shape problems."""
    problems: list[str] = []
    services = by_kind(docs, "Service")
    public_services = {
        path["backend"]["service"]["name"]
        for ingress in by_kind(docs, "Ingress").values()
        for rule in ingress["spec"].get("rules") or []
        for path in (rule.get("http") or {}).get("paths") or []
    }
    views = {}
    for name, deployment in by_kind(docs, "Deployment").items():
        container = _container(deployment, name)
        if container is None:
            problems.append(f"k8s: Deployment {name} has no container named {name}")
            continue
        if container.get("envFrom"):
            problems.append(f"k8s: {name} uses envFrom; list each variable under env")
        view = ServiceView(env={e["name"] for e in container.get("env") or []})
        view.ports.update(int(p["containerPort"]) for p in container.get("ports") or [])
        words = command_words((container.get("command") or []) + (container.get("args") or []))
        view.ports.update(int(p) for p in flag_values(words, "--port"))
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = container.get(kind)
            if probe is None:
                if kind != "startupProbe":
                    problems.append(f"k8s: {name} has no {kind}")
                continue
            if "httpGet" in probe:
                view.health.add(probe["httpGet"]["path"])
                view.ports.add(_resolve_port(probe["httpGet"]["port"], container) or -1)
            elif "tcpSocket" in probe:
                view.ports.add(_resolve_port(probe["tcpSocket"]["port"], container) or -1)
            elif "exec" in probe:
                url = probe_url(command_words(probe["exec"]["command"]))
                if url is None:
                    problems.append(f"k8s: {name} {kind} does not run {HEALTHCHECK_SCRIPT}")
                else:
                    add_url(view, url)
        readiness = container.get("readinessProbe") or {}
        ready_path = (readiness.get("httpGet") or {}).get("path") or urlsplit(
            probe_url(command_words((readiness.get("exec") or {}).get("command"))) or "").path
        if not ready_path:
            problems.append(f"k8s: {name} readinessProbe checks no health path")
        service = services.get(name)
        if service is None:
            problems.append(f"k8s: no Service {name}")
        else:
            for port in service["spec"]["ports"]:
                view.ports.add(int(port["port"]))
                view.ports.add(_resolve_port(port.get("targetPort", port["port"]), container) or -1)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        view.public = (name in public_services or not _fenced(pod_labels, docs) or (
            service is not None and service["spec"].get("type", "ClusterIP") != "ClusterIP"))
        views[name] = view
    return views, problems


def k8s_config_values(docs: list[dict[str, Any]]) -> dict[str, str]:
    """The ConfigMap data the containers read (merged across ConfigMaps)."""
    values: dict[str, str] = {}
    for config_map in by_kind(docs, "ConfigMap").values():
        values.update(config_map.get("data") or {})
    return values


def k8s_secret_problems(docs: list[dict[str, Any]], topology: Topology) -> list[str]:
    """Secrets (and the backing services' URLs, which carry passwords) come from secretKeyRef."""
    problems = []
    from_secret = topology.secrets | {spec["env"] for spec in topology.backing.values()}
    for doc in docs:
        if doc.get("kind") == "Secret":
            problems.append(f"k8s: Secret {doc['metadata']['name']} is part of the manifests")
    for name, config_map in by_kind(docs, "ConfigMap").items():
        leaked = from_secret & set(config_map.get("data") or {})
        if leaked:
            problems.append(f"k8s: ConfigMap {name} holds {sorted(leaked)}")
    for name, deployment in by_kind(docs, "Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for entry in container.get("env") or []:
                if entry["name"] not in from_secret:
                    continue
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if "value" in entry or ref is None:
                    problems.append(f"k8s: {name}.{entry['name']} is not a secretKeyRef")
                elif ref.get("name") != SECRET_NAME or ref.get("key") != entry["name"]:
                    problems.append(f"k8s: {name}.{entry['name']} refers to {ref}, not "
                                    f"{SECRET_NAME}/{entry['name']}")
    for url in literal_url_passwords(walk_strings(docs)):
        problems.append(f"k8s: password written into {url}")
    return problems
