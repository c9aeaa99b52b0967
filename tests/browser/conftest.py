"""Browser tests: the real gateway (`python -m channels`, i.e. `create_app`) on a free port,
wired to the live Rasa + action server stack (`rasa_url`), driven by Playwright in Debian's
Chromium (`/usr/bin/chromium`; `make test` installs it; never `playwright install`).

Screenshots go to `artifacts/screenshots/` (gitignored).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import ROOT, _free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ADMIN_USER, ADMIN_PASSWORD = "admin", "Browser-test-2026"
ARTIFACTS = ROOT / "artifacts" / "screenshots"
# The bureau page of the cross-origin widget test (test_widget.py) is served from
# http://localhost:<this port>, another origin than the gateway's: the gateway allows it by
# name in WIDGET_ALLOWED_ORIGINS (by default only the gateway's own origin may embed).
WIDGET_HOST_PORT = _free_port()


@pytest.fixture(scope="session")
def gateway_url(rasa_url: str, handoff_db_url: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway with console and widget, sharing its database with the action server."""
    port = _free_port()
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "RASA_URL": rasa_url,
           "DATABASE_URL": handoff_db_url, "SENDER_HASH_SECRET": "browser-test-secret",
           "CONSOLE_ADMIN_USER": ADMIN_USER, "CONSOLE_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "SYNC_REPLY_BUDGET_S": "30", "RASA_TIMEOUT_S": "30", "SANIC_NO_UVLOOP": "1",
           "WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{WIDGET_HOST_PORT}"}
    proc = subprocess.Popen([sys.executable, "-m", "channels"], cwd=ROOT, env=env,
                            start_new_session=True, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"gateway exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gateway not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make test` (installs Debian's chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
