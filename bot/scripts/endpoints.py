"""bot/endpoints.yml with the action server's port and the tracker file changed (tests, benches).

One place for the endpoint settings: a live test stack or a benchmark runs with exactly what
``make run`` uses, on its own free ports and a temporary SQLite tracker file.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ENDPOINTS = Path(__file__).resolve().parents[1] / "endpoints.yml"


def endpoints_for(actions_port: int, tracker_db: Path) -> str:
    config = yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))
    config["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    config["tracker_store"]["db"] = str(tracker_db)
    return yaml.safe_dump(config, allow_unicode=True)
