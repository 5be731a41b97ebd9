"""A real server in a subprocess and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori.migrations import upgrade
from mamori.settings import load_settings
from mamori.storage.db import Database
from tests.conftest import REPO, seed_tenants

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = Database(load_settings(data_dir=data_dir).resolved_database_url())


@pytest.fixture(scope="session")  # one server start (~30 s: rule compilation) for every browser test
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    data_dir.mkdir()
    settings = load_settings(data_dir=data_dir)
    upgrade(settings.resolved_database_url())
    srv = Server(data_dir)
    seed_tenants(srv.db)
    env = {
        **os.environ,
        "MAMORI_DATA_DIR": str(data_dir),
        "MAMORI_SECRET_KEY": "browser-test-secret-0123456789",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "mamori.asgi:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(srv.port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=REPO,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(srv.url + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        yield srv
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        srv.db.dispose()


@pytest.fixture(scope="module")  # not session: Playwright's sync API holds an event loop while it lives
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = context.new_page()
    pg.dialogs: list[str] = []  # type: ignore[misc]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login_as(page: Any, server: Server, username: str) -> None:
    from tests.conftest import PASSWORD

    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
