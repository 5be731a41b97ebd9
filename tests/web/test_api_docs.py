"""The interactive API reference: served offline (no CDN), behind login, under the console's strict CSP."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import login
from tests.web.conftest import Server, login_as, shot


def test_the_api_page_is_behind_login_and_loads_only_local_files(client: TestClient) -> None:
    anonymous = client.get("/api/docs", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    login(client, "national_analyst-ncc")
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], "inline script would break the CSP"
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing from another host
    for asset in (s for s in sources if "/vendor/" in s or s.endswith("api-docs.js")):
        assert client.get(asset).status_code == 200, asset


def test_swagger_ui_renders_every_operation_in_chromium(page: Any, server: Server) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None)
    login_as(page, server, "national_analyst-ncc")
    page.goto(server.url + "/api/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "mamori" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 74
    assert page.locator(".swagger-ui .auth-wrapper .authorize").count() == 1  # the security schemes are offered
    shot(page, "api-docs")
    assert violations == [] and outside == []
