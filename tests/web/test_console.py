from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from mamori.alerts import service as alerts
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from tests.conftest import make_token
from tests.web.conftest import Server, login_as, shot

XSS = [
    '<script>window.__xss=1;alert("xss")</script>',
    '<img src=x onerror="window.__xss=1;alert(1)">',
    '"><svg/onload=window.__xss=1>',
    "javascript:window.__xss=1",
    "<iframe src=javascript:alert(1)>",
    "</pre><script>window.__xss=1</script>",
    "{{7*7}}<body onload=alert(1)>",
]


def crs_payloads() -> list[str]:
    """A few real XSS test payloads from the OWASP CRS regression tests, when the shared data is present."""
    from tests.conftest import SHARED_DATA

    root = SHARED_DATA / "web" / "crs_regression_tests"
    found: list[str] = []
    for path in sorted(root.rglob("*941*.yaml"))[:40] if root.exists() else []:
        for line in path.read_text(errors="replace").splitlines():
            if "uri:" in line and ("<" in line or "script" in line.lower()):
                found.append(line.split("uri:", 1)[1].strip().strip("\"'"))
    return found[:20]


def plant_hostile_alert(server: Server) -> int:
    payloads = XSS + crs_payloads()
    events = tuple(
        {"@id": f"x:{i}", "c-uri": p, "cs-user-agent": p, "host": p, "@timestamp": p} for i, p in enumerate(payloads)
    )
    with server.db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id="xss-test",
                    rule_title=XSS[0],
                    severity=Severity.HIGH,
                    org="mof",
                    timestamp=datetime.now(UTC),
                    entities={"src_ip": XSS[1], "host": XSS[2]},
                    events=events,
                    description=XSS[5],
                )
            ],
        )
    token = make_token(server.db, "mof", sensor="xss")
    body = b"\n".join(orjson.dumps({"message": p}) for p in payloads) + b"\n" + XSS[0].encode()
    httpx.post(server.url + "/api/v1/ingest?format=json", content=body, headers={"Authorization": f"Bearer {token}"})
    return folded.alert.id


def assert_inert(page: Any) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []


def test_login_and_dashboard(page: Any, server: Server) -> None:
    page.goto(server.url + "/alerts")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "national_analyst-ncc")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.inner_text("main")
    login_as(page, server, "national_analyst-ncc")
    assert "Potential attacks today" in page.inner_text("main")
    assert page.locator(".tile").count() == 3
    shot(page, "dashboard")


def test_alert_triage_in_the_browser(page: Any, server: Server) -> None:
    with server.db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id="r1",
                    rule_title="Brute force on VPN",
                    severity=Severity.MEDIUM,
                    org="mof",
                    timestamp=datetime.now(UTC),
                    entities={"src_ip": "198.51.100.23"},
                    events=({"@id": "t:1"},),
                )
            ],
        )
    login_as(page, server, "org_officer-mof")
    page.goto(server.url + "/alerts?q=Brute")
    page.click("text=Brute force on VPN")
    page.click("#btn-ack")
    assert page.inner_text("#alert-status").startswith("acknowledged")
    page.fill("#comment", "Blocked at the firewall")
    page.click("#btn-comment")
    page.select_option("#resolution", "true_positive")
    page.click("#btn-close")
    page.fill("#close-reason", "Contained at the VPN gateway")
    page.click("#btn-close-confirm")
    assert page.inner_text("#alert-status") == "closed (true_positive)"
    assert "Blocked at the firewall" in page.inner_text("main")
    shot(page, "alert-triage")
    page.select_option("select[name=category]", "other")
    page.click("#btn-incident")
    assert "/incidents/" in page.url and "Brute force on VPN" in page.inner_text("main")
    assert folded.alert.id > 0


def test_hostile_event_content_renders_inert(page: Any, server: Server) -> None:
    alert_id = plant_hostile_alert(server)
    login_as(page, server, "national_analyst-ncc")
    for path in ("/", "/alerts", f"/alerts/{alert_id}", "/dead-letters", "/events", "/events?q=script"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        assert_inert(page)
    page.goto(server.url + f"/alerts/{alert_id}")
    assert XSS[0] in page.inner_text("main")  # shown as text, not run
    assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    shot(page, "xss-inert-alert")
    page.goto(server.url + "/dead-letters")
    assert XSS[0] in page.inner_text("main")
    shot(page, "xss-inert-dead-letters")
    page.goto(server.url + "/events?q=__xss")
    page.locator("details summary").first.click()
    assert "window.__xss" in page.inner_text("main")
    assert_inert(page)
    shot(page, "xss-inert-events")


def test_ministry_officer_sees_only_their_ministry(page: Any, server: Server) -> None:
    with server.db.session() as s:
        alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id="r2",
                    rule_title="Other ministry only",
                    severity=Severity.LOW,
                    org="mofa",
                    timestamp=datetime.now(UTC),
                )
            ],
        )
    login_as(page, server, "org_officer-mof")
    page.goto(server.url + "/alerts")
    assert "Other ministry only" not in page.inner_text("main")
    token = make_token(server.db, "mofa", sensor="other")
    httpx.post(
        server.url + "/api/v1/ingest?format=json",
        content=b'{"message": "mofa private record"}',
        headers={"Authorization": f"Bearer {token}"},
    )
    page.goto(server.url + "/events?q=private&org=mofa")
    assert "mofa private record" not in page.inner_text("main")
    assert page.locator(".tile").count() == 0 or "Ministry of Foreign Affairs" not in page.inner_text("main")
