"""`python -m channels`: serve the gateway (default 0.0.0.0:8000, see `.env.example`)."""

from __future__ import annotations

import logging

from channels.app import create_app
from channels.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    app = create_app(settings, name="channels")
    app.run(
        host=settings.host,
        port=settings.port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
