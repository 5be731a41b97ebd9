from __future__ import annotations

import gzip
import threading
import time

import orjson
from fastapi.testclient import TestClient

from mamori.platform import Platform
from tests.conftest import PASSWORD, login, make_token

ACCESS = (
    b'203.0.113.7 - - [23/Nov/2026:08:15:02 +0000] "GET /index.html HTTP/1.1" 200 5120 "-" "Mozilla/5.0"\n'
    b'203.0.113.8 - - [23/Nov/2026:08:15:03 +0000] "GET /news HTTP/1.1" 200 900 "-" "curl/8.5"\n'
)


def test_health_and_metrics_need_no_login(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    body = client.get("/metrics").text
    assert "mamori_events_accepted" in body and "mamori_stage_latency_seconds" in body


def test_every_other_endpoint_needs_authentication(client: TestClient) -> None:
    for path in (
        "/api/v1/alerts",
        "/api/v1/orgs",
        "/api/v1/users",
        "/api/v1/events",
        "/api/v1/dead-letters",
        "/api/v1/stats/dashboard",
        "/api/v1/audit",
        "/api/v1/auth/me",
    ):
        assert client.get(path).status_code == 401, path
    assert client.post("/api/v1/ingest", content=ACCESS).status_code == 401
    assert client.get("/alerts", follow_redirects=False).headers["location"] == "/login"


def test_cookie_sessions_need_the_csrf_token_for_changes(client: TestClient) -> None:
    token = login(client, "admin-ncc")
    del client.headers["X-CSRF-Token"]
    data = {"name": "fw", "org_id": "mof", "sensor": "fw1"}
    assert client.post("/api/v1/tokens", json=data).status_code == 403
    assert client.post("/api/v1/tokens", json=data, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/v1/tokens", json=data, headers={"X-CSRF-Token": token}).status_code == 201


def test_login_refuses_wrong_password(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "admin-ncc", "password": PASSWORD + "x"})
    assert response.status_code == 401


def test_ingest_ndjson_gzip_and_bad_records_are_dead_lettered(client: TestClient, platform: Platform) -> None:
    token = make_token(platform.db, "mof")
    lines = [orjson.dumps({"message": f"hello {i}", "host": "web1"}) for i in range(5)] + [
        b"{not json",
        b"[1,2]",
    ]
    body = gzip.compress(b"\n".join(lines))
    response = client.post(
        "/api/v1/ingest?format=json",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 202, response.text
    assert (response.json()["accepted"], response.json()["rejected"]) == (5, 2)
    login(client, "org_officer-mof")
    dead = client.get("/api/v1/dead-letters").json()
    assert len(dead) == 2 and {d["raw_text"] for d in dead} == {"{not json", "[1,2]"}
    events = client.get("/api/v1/events", params={"field.host": "web1"}).json()["items"]
    assert len(events) == 5 and all(e["org"] == "mof" and e["sensor"] == "s1" for e in events)


def test_ingest_refuses_oversized_and_broken_gzip(client: TestClient, platform: Platform) -> None:
    platform.settings.ingest_max_bytes = 1000
    auth = {"Authorization": f"Bearer {make_token(platform.db, 'mof')}"}
    assert client.post("/api/v1/ingest", content=b"x" * 2000, headers=auth).status_code == 413
    bomb = gzip.compress(b"\n" * 100_000)
    assert client.post("/api/v1/ingest", content=bomb, headers={**auth, "Content-Encoding": "gzip"}).status_code == 413
    assert (
        client.post("/api/v1/ingest", content=b"nope", headers={**auth, "Content-Encoding": "gzip"}).status_code == 422
    )


def test_ingest_needs_a_token_not_a_person(client: TestClient) -> None:
    login(client, "admin-mof")
    assert client.post("/api/v1/ingest", content=ACCESS).status_code == 403


def test_alert_stream_delivers_new_alerts_to_those_who_may_see_them(client: TestClient, platform: Platform) -> None:
    from tests.platform.test_alerts import det

    login(client, "org_officer-mof")
    received: list[bytes] = []

    def listen() -> None:
        with client.stream("GET", "/api/v1/alerts/stream") as stream:
            for line in stream.iter_lines():
                received.append(line.encode() if isinstance(line, str) else line)
                if any(b"SQL injection" in r for r in received):
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    time.sleep(0.5)
    from mamori.alerts import service as alerts

    with platform.db.session() as s:
        alerts.fold(s, [det(1, org="mofa", ip="192.0.2.1"), det(2, org="mof")])
    thread.join(timeout=10)
    text = b"\n".join(received)
    assert b'"org":"mof"' in text and b'"org":"mofa"' not in text


def test_alerts_list_filter_page_and_act(client: TestClient, platform: Platform) -> None:
    from mamori.alerts import service as alerts
    from mamori.core.severity import Severity
    from tests.platform.test_alerts import det

    with platform.db.session() as s:
        alerts.fold(s, [det(n, ip=f"192.0.2.{n}", severity=Severity.LOW if n % 2 else Severity.HIGH) for n in range(7)])
    login(client, "national_analyst-ncc")
    page = client.get("/api/v1/alerts", params={"limit": 3}).json()
    assert page["total"] == 7 and len(page["items"]) == 3
    rest = client.get("/api/v1/alerts", params={"limit": 3, "offset": 6}).json()["items"]
    assert len(rest) == 1
    high = client.get("/api/v1/alerts", params={"min_severity": "high"}).json()
    assert high["total"] == 4 and {a["severity"] for a in high["items"]} == {"high"}
    assert client.get("/api/v1/alerts", params={"q": "192.0.2.5"}).json()["total"] == 1
    alert_id = page["items"][0]["id"]
    closing = {"action": "close", "resolution": "duplicate", "comment": "seen twice"}
    acted = client.post(f"/api/v1/alerts/{alert_id}/actions", json=closing)
    assert acted.status_code == 200 and acted.json()["status"] == "closed"
    again = client.post(f"/api/v1/alerts/{alert_id}/actions", json={"action": "acknowledge"})
    assert again.status_code == 409
    assert client.get("/api/v1/alerts", params={"status": "closed"}).json()["total"] == 1
    audit = client.get("/api/v1/audit", params={"action": "alert.close"})
    assert audit.status_code == 403  # an analyst is not an auditor
    login(client, "auditor-ncc")
    assert [e["object_id"] for e in client.get("/api/v1/audit", params={"action": "alert.close"}).json()] == [
        str(alert_id)
    ]


def test_organisation_slugs_in_any_case_and_the_people_search(client: TestClient, platform: Platform) -> None:
    from mamori.alerts import service as alerts
    from tests.platform.test_alerts import det

    with platform.db.session() as s:
        alerts.fold(s, [det(n, ip=f"192.0.2.{n}") for n in range(3)])
    login(client, "admin-ncc")
    totals = {org: client.get("/api/v1/alerts", params={"org": org}).json()["total"] for org in ("mof", "MOF", "Mof")}
    assert set(totals.values()) == {3}, totals
    assert client.get("/api/v1/orgs/MOF").json()["id"] == "mof"
    twin = client.post("/api/v1/orgs", json={"id": "MOF", "name": "Finance, again"})
    assert twin.status_code == 409 and twin.json()["error"] == "Conflict", twin.text
    login(client, "national_analyst-ncc")  # manages the roster: finds responders, only responders
    found = client.get("/api/v1/users/search", params={"q": "RESPONDER-M"})
    assert found.status_code == 200 and [p["username"] for p in found.json()] == ["responder-mof", "responder-mofa"]
    assert client.get("/api/v1/users/search", params={"q": "officer"}).json() == []
    login(client, "responder-ncc")
    assert client.get("/api/v1/users/search").status_code == 403


ACCESS_LINE = b'203.0.113.5 - - [07/Dec/2026:16:00:00 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8.5.0"'


def test_ingest_takes_the_body_curl_sends_by_default(client: TestClient, platform: Platform) -> None:
    """`curl --data-binary @access.log` labels the body a form (application/x-www-form-urlencoded); the README's
    sensor command must work as written (the CSRF check read the body as a form: 500 "Stream consumed")."""
    token = make_token(platform.db, "mof")
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = client.post(
            "/api/v1/ingest?format=webaccess",
            content=b"\n".join([ACCESS_LINE] * 3),
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        )
        assert response.status_code == 202, (content_type, response.text)
        assert response.json()["accepted"] == 3


def test_a_request_without_a_session_is_refused_before_its_form_is_read(client: TestClient) -> None:
    response = client.post(
        "/api/v1/orgs", content=b"a=" + b"x" * 1000, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 401 and response.json()["error"] == "AuthenticationRequired"


def test_times_far_in_the_past_or_future_are_refused_in_words(client: TestClient) -> None:
    """`0001-01-01T00:00:00+14:00` is a valid datetime that cannot be converted to UTC (it answered 500)."""
    login(client, "national_analyst-ncc")
    for since in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T00:00:00Z"):
        for path in ("/api/v1/alerts", "/api/v1/events"):
            response = client.get(path, params={"since": since})
            assert response.status_code == 422, (path, since, response.text)
            assert "between 1970 and 9000" in response.text
        page = client.get("/alerts", params={"since": since})
        assert page.status_code == 422 and "between 1970 and 9000" in page.text
    assert client.get("/api/v1/alerts", params={"since": "2026-12-07T16:00:00Z"}).status_code == 200
