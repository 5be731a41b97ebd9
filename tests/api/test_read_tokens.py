"""API tokens have one scope enum: `ingest` tokens only ingest, `read` tokens only read, within their tenancy."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from mamori.accounts import service as accounts
from mamori.accounts.enums import TokenScope
from mamori.accounts.schemas import TokenIn
from mamori.alerts import service as alerts
from mamori.platform import Platform
from mamori.storage.db import Database
from tests.conftest import login, make_token
from tests.platform.test_alerts import det


def read_token(database: Database, org: str) -> str:
    with database.session() as s:
        secret, _ = accounts.create_token(
            s, principal=None, data=TokenIn(name=f"{org}-reader", org_id=org, scopes=[TokenScope.READ])
        )
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seed_alerts(platform: Platform) -> dict[str, int]:
    with platform.db.session() as s:
        folded = alerts.fold(s, [det(1, org="mof", ip="192.0.2.1"), det(2, org="mofa", ip="192.0.2.2")])
        return {f.alert.org_id: f.alert.id for f in folded}


def test_a_read_token_reads_its_organisation_only(client: TestClient, platform: Platform) -> None:
    ids = seed_alerts(platform)
    auth = bearer(read_token(platform.db, "mof"))
    page = client.get("/api/v1/alerts", headers=auth).json()
    assert [a["org_id"] for a in page["items"]] == ["mof"]
    assert client.get(f"/api/v1/alerts/{ids['mof']}", headers=auth).status_code == 200
    assert client.get(f"/api/v1/alerts/{ids['mofa']}", headers=auth).status_code == 404
    for path in ("/api/v1/incidents", "/api/v1/websites", "/api/v1/events"):
        assert client.get(path, headers=auth).status_code == 200, path
    assert client.get("/api/v1/incidents", headers=auth, params={"org": "mofa"}).json()["items"] == []


def test_a_national_read_token_sees_every_ministry(client: TestClient, platform: Platform) -> None:
    seed_alerts(platform)
    page = client.get("/api/v1/alerts", headers=bearer(read_token(platform.db, "ncc"))).json()
    assert sorted(a["org_id"] for a in page["items"]) == ["mof", "mofa"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/alerts/{mof}/actions", {"action": "acknowledge"}),
        ("POST", "/api/v1/incidents", {"org_id": "mof", "title": "from a token"}),
        ("POST", "/api/v1/websites", {"org_id": "mof", "name": "x", "url": "https://x.example/"}),
        ("POST", "/api/v1/ingest", None),
    ],
)
def test_a_read_token_never_writes(
    client: TestClient, platform: Platform, method: str, path: str, body: dict[str, Any] | None
) -> None:
    ids = seed_alerts(platform)
    auth = bearer(read_token(platform.db, "mof"))
    kwargs: dict[str, Any] = {"json": body} if body is not None else {"content": orjson.dumps({"message": "x"})}
    response = client.request(method, path.format(**ids), headers=auth, **kwargs)
    assert response.status_code == 403, response.text
    assert client.get(f"/api/v1/alerts/{ids['mof']}", headers=auth).json()["status"] == "new"


def test_an_ingest_token_cannot_read(client: TestClient, platform: Platform) -> None:
    seed_alerts(platform)
    auth = bearer(make_token(platform.db, "mof"))
    for path in ("/api/v1/alerts", "/api/v1/incidents", "/api/v1/websites", "/api/v1/events"):
        assert client.get(path, headers=auth).status_code == 403, path


def test_token_scopes_are_one_enum_and_the_api_keeps_its_ingest_default(client: TestClient) -> None:
    login(client, "admin-mof")
    created = client.post("/api/v1/tokens", json={"name": "sensor-1", "org_id": "mof", "sensor": "s1"})
    assert created.status_code == 201 and created.json()["scopes"] == "ingest" and created.json()["token"]
    reader = client.post("/api/v1/tokens", json={"name": "siem", "org_id": "mof", "scopes": ["read"]})
    assert reader.status_code == 201 and reader.json()["scopes"] == "read"
    assert client.post("/api/v1/tokens", json={"name": "x", "org_id": "mof", "scopes": ["admin"]}).status_code == 422
    assert client.post("/api/v1/tokens", json={"name": "x", "org_id": "mof", "scopes": []}).status_code == 422


def test_the_console_token_form_creates_a_read_token(client: TestClient, platform: Platform) -> None:
    csrf = login(client, "admin-mof")
    page = client.get("/admin").text
    assert 'name="scope"' in page and 'value="read"' in page
    response = client.post("/admin/tokens", data={"csrf_token": csrf, "name": "siem", "org_id": "mof", "scope": "read"})
    assert response.status_code == 200
    tokens = client.get("/api/v1/tokens").json()
    assert [t["scopes"] for t in tokens if t["name"] == "siem"] == ["read"]


def test_a_read_token_lists_the_organisations_it_can_see(client: TestClient, platform: Platform) -> None:
    listed = client.get("/api/v1/orgs", headers=bearer(read_token(platform.db, "mof")))
    assert listed.status_code == 200 and [o["id"] for o in listed.json()] == ["mof"]
    national = client.get("/api/v1/orgs", headers=bearer(read_token(platform.db, "ncc"))).json()
    assert {"ncc", "mof", "mofa"} <= {o["id"] for o in national}
