"""`make run` and `make cluster`: the product's processes on this machine, under supervisord.

    python deploy/launch.py run      # embedded: SQLite, one Rasa (the default, no server needed)
    python deploy/launch.py cluster  # scaled: PostgreSQL + Redis, RASA_REPLICAS Rasa servers

supervisord restarts any process that dies (kill -9 included); the gateway keeps a message
that arrives meanwhile as pending and answers it when Rasa is back. Ctrl-C or SIGTERM stops
everything. Rasa and the action server listen on 127.0.0.1 only and Rasa's HTTP API needs
RASA_TOKEN (generated once into var/rasa-token unless set); the gateway is the public entry.
The services, ports and health paths come from deploy/topology.yaml, which deploy/compose and
deploy/k8s are checked against.

Ports can be moved with RASA_PORT (replica i: RASA_PORT + i), ACTIONS_PORT and GATEWAY_PORT;
VAR_DIR (default var/) holds logs, the supervisor's files and the embedded databases.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bot.scripts.endpoints import endpoints_for  # noqa: E402  (bot/endpoints.yml, ports changed)
from channels.identity import SecretUnavailable, persisted_secret  # noqa: E402

TOPOLOGY = yaml.safe_load((ROOT / "deploy" / "topology.yaml").read_text())
APP_PY = ROOT / ".venv" / "bin" / "python"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"  # bot/scripts/serve.py: `rasa` + parse cache
MODEL = ROOT / "bot" / "models" / "current.tar.gz"
START_TIMEOUT_S = 300


@dataclass
class Program:
    name: str
    command: list[str]
    port: int
    health: str
    env: dict[str, str] = field(default_factory=dict)


def say(line: str) -> None:
    print(line, flush=True)


def port_of(service: str, offset: int = 0) -> int:
    default = TOPOLOGY["services"][service]["port"]
    env = {"rasa": "RASA_PORT", "actions": "ACTIONS_PORT", "gateway": "GATEWAY_PORT"}[service]
    return int(os.environ.get(env) or default) + offset


def programs(mode: str, var: Path) -> list[Program]:
    """The processes of one topology, with the environment each needs beyond the launcher's."""
    services = TOPOLOGY["services"]
    replicas = int(os.environ.get(services["rasa"]["replicas_env"]) or 2) if mode == "cluster" else 1
    actions_port = port_of("actions")
    action_url = f"http://127.0.0.1:{actions_port}/webhook"  # cluster: ACTION_SERVER_URL
    if mode == "cluster":
        endpoints = ROOT / "bot" / "endpoints-cluster.yml"
    else:
        endpoints = var / "endpoints.yml"
        endpoints.write_text(endpoints_for(actions_port, var / "rasa-tracker.db"))
    # cluster: the replicas sit behind the balancer on RASA_PORT (the Rasa "service" address)
    rasa_ports = [port_of("rasa", i + (mode == "cluster")) for i in range(replicas)]
    progs = [Program("actions", [str(APP_PY), "-m", "actions.server", "--port", str(actions_port)],
                     actions_port, services["actions"]["health"])]
    for i, port in enumerate(rasa_ports):
        progs.append(Program(
            f"rasa-{i}",
            [str(RASA_PY), str(ROOT / "bot" / "scripts" / "serve.py"), "run", "-m", str(MODEL),
             "--enable-api", "--interface", "127.0.0.1",
             "--port", str(port), "--endpoints", str(endpoints),
             "--credentials", str(ROOT / "bot" / "credentials.yml")],
            port, services["rasa"]["health"],
            {"PYTHONPATH": str(ROOT / "bot"), "ACTION_SERVER_URL": action_url}))
    if mode == "cluster":
        progs.append(Program(
            "rasa-balancer",
            [str(APP_PY), str(ROOT / "deploy" / "balancer.py"), "--port", str(port_of("rasa")),
             "--replicas", ",".join(f"http://127.0.0.1:{p}" for p in rasa_ports)],
            port_of("rasa"), "/"))
    gateway_port = port_of("gateway")
    progs.append(Program(
        "gateway", [str(APP_PY), "-m", "channels"], gateway_port, services["gateway"]["health"],
        {"PORT": str(gateway_port),
         "RASA_URL": ",".join(f"http://127.0.0.1:{p}" for p in rasa_ports)}))
    return progs


def supervisor_conf(progs: list[Program], var: Path) -> str:
    """supervisord's configuration; secrets stay out of it (programs inherit the environment)."""
    lines = [
        "[supervisord]", "nodaemon=true", "silent=true", f"logfile={var}/supervisord.log",
        f"pidfile={var}/supervisord.pid", f"childlogdir={var}", "loglevel=warn", "",
        "[unix_http_server]", f"file={var}/supervisor.sock", "chmod=0700", "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
        "[supervisorctl]", f"serverurl=unix://{var}/supervisor.sock", "",
    ]
    for prog in progs:
        command = " ".join(_quote(part) for part in prog.command)
        env = ",".join(f'{k}="{_escape(v)}"' for k, v in prog.env.items())
        lines += [
            f"[program:{prog.name}]", f"command={command}", f"directory={ROOT}",
            f"environment={env}" if env else "", "autostart=true", "autorestart=true",
            "startsecs=3", "startretries=100", "stopsignal=TERM", "stopwaitsecs=20",
            "stopasgroup=true", "killasgroup=true", f"stdout_logfile={var}/{prog.name}.log",
            "stdout_logfile_maxbytes=20MB", "redirect_stderr=true", "",
        ]
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("%", "%%").replace('"', '\\"')


def _quote(part: str) -> str:
    part = _escape(part)
    return f'"{part}"' if any(c in part for c in ' "\'') else part


def healthy(prog: Program) -> bool:
    url = f"http://127.0.0.1:{prog.port}{prog.health}"
    if prog.health == "/status":  # behind Rasa's --auth-token
        url += f"?token={os.environ['RASA_TOKEN']}"
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def ensure_postgres(url: str) -> None:
    """Create the project's database on the server if it is missing (cluster mode)."""
    import psycopg  # the app venv's driver; Rasa's venv has psycopg2

    target = make_url(url)
    name = target.database
    admin = target.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            say(f"cluster: created database {name}")


def ensure_redis(url: str) -> None:
    """PING the lock store before Rasa starts (Rasa's own client lives in Rasa's venv)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 5) as s:
        if parts.password:
            user = unquote(parts.username) + " " if parts.username else ""
            s.sendall(f"AUTH {user}{unquote(parts.password)}\r\n".encode())
            s.recv(64)
        s.sendall(b"PING\r\n")
        if not s.recv(64).startswith(b"+PONG"):
            raise OSError("Redis did not answer PING")


def environment(mode: str, var: Path) -> None:
    """Fill the shared environment: one database for gateway and actions, Rasa's token."""
    backing = TOPOLOGY["backing"]
    if mode == "cluster":
        os.environ.setdefault("DATABASE_URL", backing["postgres"]["default"])
        os.environ.setdefault("REDIS_URL", backing["redis"]["default"])
        ensure_postgres(os.environ["DATABASE_URL"])
        ensure_redis(os.environ["REDIS_URL"])
    else:
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{var / 'yibao.db'}")
    os.environ["RASA_TOKEN"] = (os.environ.get("RASA_TOKEN")
                                or persisted_secret(var / "rasa-token", "RASA_TOKEN"))
    os.environ.setdefault("SENDER_HASH_SECRET_FILE", str(var / "sender-hash-secret"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["run", "cluster"])
    args = parser.parse_args()
    var = Path(os.environ.get("VAR_DIR") or ROOT / "var").resolve()
    var.mkdir(parents=True, exist_ok=True)
    if not MODEL.exists():
        sys.exit(f"no model at {MODEL}: run `make train`")
    try:
        environment(args.mode, var)
    except SecretUnavailable as exc:
        sys.exit(f"{args.mode}: {exc}")
    except (OSError, ImportError) as exc:
        sys.exit(f"{args.mode}: a backing service is not reachable: {type(exc).__name__}: {exc}")
    except Exception as exc:  # psycopg errors: no server, no rights to create the database
        sys.exit(f"{args.mode}: PostgreSQL: {type(exc).__name__}: {exc}")
    progs = programs(args.mode, var)
    conf = var / "supervisord.conf"
    conf.write_text(supervisor_conf(progs, var))
    names = ", ".join(p.name for p in progs)
    say(f"start: {names} under supervisord (logs in {var}/*.log) ...")
    started = time.monotonic()
    supervisor = subprocess.Popen([str(APP_PY), "-m", "supervisor.supervisord", "-c", str(conf)])

    def stop(signum: int, _frame: object) -> None:
        supervisor.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    waiting = list(progs)
    while waiting and supervisor.poll() is None and time.monotonic() - started < START_TIMEOUT_S:
        waiting = [p for p in waiting if not healthy(p)]
        time.sleep(0.5)
    if supervisor.poll() is None:
        if waiting:
            say(f"start: not healthy after {START_TIMEOUT_S} s: "
                f"{', '.join(p.name for p in waiting)} (see {var}/*.log); still trying")
        else:
            gateway = progs[-1]
            say(f"ready in {time.monotonic() - started:.0f} s: http://127.0.0.1:{gateway.port} "
                f"(widget /widget/demo, console /console); Ctrl-C stops all")
    code = supervisor.wait()
    say("stopped.")
    return 0 if code in (0, -signal.SIGTERM) else code


if __name__ == "__main__":
    sys.exit(main())
