"""`python -m channels`: serve the gateway (default 0.0.0.0:8000, see `.env.example`).

`WORKERS=N` (default 1) runs N worker processes; they share nothing but the database,
which de-duplicates messages and hands out claims, so any number is safe.
"""

from __future__ import annotations

import os

from sanic import Sanic
from sanic.worker.loader import AppLoader

from channels.app import app_from_env, configure_logging, configure_process, create_app
from channels.identity import SecretUnavailable, load_sender_hash_secret
from channels.settings import Settings


def main() -> None:
    configure_logging()
    settings = Settings.from_env()
    try:  # once here, before any worker starts: a clear message instead of N tracebacks
        load_sender_hash_secret(settings.sender_hash_secret, settings.sender_hash_secret_file)
    except SecretUnavailable as exc:
        raise SystemExit(f"channels: cannot start: {exc}") from None
    configure_process(settings)
    workers = int(os.environ.get("WORKERS", "1") or 1)
    if workers <= 1:
        app = create_app(settings, name="channels")
        app.run(
            host=settings.host,
            port=settings.port,
            single_process=True,
            access_log=False,
            motd=False,
        )
        return
    loader = AppLoader(factory=app_from_env)
    app = loader.load()
    app.prepare(host=settings.host, port=settings.port, workers=workers, access_log=False,
                motd=False)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
