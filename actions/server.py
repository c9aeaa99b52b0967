"""`python -m actions.server [--port 5055]`: the action server in one process.

rasa_sdk's own `python -m rasa_sdk` serves from a Sanic worker subprocess. When its main
process is killed (kill -9, the OOM killer) the worker lives on as an orphan that keeps the
port, so the supervisor's new process exits with "Address already in use" again and again
(seen under `make run`). Here rasa_sdk's app runs in the process the supervisor watches:
nothing outlives it. Listens on 127.0.0.1 unless `--host` says otherwise (containers: 0.0.0.0
on their private network).
"""

from __future__ import annotations

import argparse

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor

ACTIONS_PACKAGE = "actions.bot_actions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    app = create_app(executor, cors_origins=[])  # called by Rasa only, never by a browser
    app.run(host=args.host, port=args.port,
            single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
