"""Every API error answers one JSON shape (`mamori.api.errors.ErrorBody`), and no input answers 5xx.

The table-driven walk posts bad values (unknown enum values, numbers past 2^63, wrong types, missing fields,
garbage JSON) to every API route of the app, so a new route is walked without editing this test.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.platform import Platform
from tests.api.test_tenancy import body_for, plant
from tests.conftest import login

SHAPE = {"error", "message", "where", "fields"}
HUGE = 2**63
BAD_VALUES: list[Any] = ["explode", HUGE, -HUGE - 1, None, [], {}, "", "x" * 5000, 1.5, True]


def assert_shape(response: Any, context: str) -> dict[str, Any]:
    assert response.status_code < 500, f"{context} → {response.status_code} {response.text[:300]}"
    body: dict[str, Any] = response.json()
    assert set(body) == SHAPE, f"{context} answered another shape: {body}"
    assert isinstance(body["message"], str) and body["message"]
    assert all(set(f) == {"loc", "message"} for f in body["fields"]), body
    return body


def test_unknown_route_and_wrong_method_answer_the_shape(client: TestClient) -> None:
    login(client, "admin-ncc")
    missing = assert_shape(client.get("/api/v1/no-such-thing"), "unknown route")
    assert (missing["error"], client.get("/api/v1/no-such-thing").status_code) == ("NotFound", 404)
    wrong = client.delete("/api/v1/health")
    assert wrong.status_code == 405
    assert assert_shape(wrong, "405")["error"] == "MethodNotAllowed"


def test_request_validation_names_the_fields(client: TestClient) -> None:
    login(client, "admin-ncc")
    response = client.post("/api/v1/orgs", json={"id": "good-id", "name": "A ministry", "kind": "planet"})
    assert response.status_code == 422
    body = assert_shape(response, "kind=planet")
    assert body["error"] == "ValidationFailed"
    assert [f["loc"] for f in body["fields"]] == ["body.kind"]
    assert body["where"] == "body.kind"
    assert "national" in body["fields"][0]["message"]


def test_garbage_json_and_missing_fields(client: TestClient) -> None:
    login(client, "admin-ncc")
    garbage = client.post("/api/v1/orgs", content=b"{not json", headers={"content-type": "application/json"})
    assert garbage.status_code == 422
    assert assert_shape(garbage, "garbage")["fields"]
    missing = client.post("/api/v1/orgs", json={})
    assert {f["loc"] for f in assert_shape(missing, "{}")["fields"]} >= {"body.id", "body.name"}


def test_a_mamori_error_keeps_its_name_and_where(client: TestClient) -> None:
    login(client, "admin-ncc")
    body = assert_shape(client.get("/api/v1/alerts/999999"), "missing alert")
    assert body["error"] == "NotFound"
    assert body["fields"] == []


def test_numbers_past_the_database_range_are_refused_not_crashed(client: TestClient) -> None:
    login(client, "admin-ncc")
    for url in (f"/api/v1/alerts/{HUGE}", f"/api/v1/incidents/{HUGE}", f"/api/v1/alerts?offset={HUGE}"):
        response = client.get(url)
        assert response.status_code in (404, 422), f"{url} → {response.status_code}"
        assert_shape(response, url)


def test_a_bug_answers_a_generic_500_and_logs_the_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]

    def broken() -> None:
        raise RuntimeError("secret internals: table users")

    app.add_api_route("/api/v1/test-broken", broken)  # a real route with a real bug, added for this test
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/test-broken")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == SHAPE and body["error"] == "InternalError"
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)


def fill(path: str, ids: dict[str, Any], value: Any = None) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)] if value is None else value), path)


def api_operations(client: TestClient) -> list[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    skip = {"/api/v1/auth/logout", "/api/v1/alerts/stream"}
    return [(m.upper(), p) for p, ops in paths.items() if p not in skip for m in ops]


def test_bad_values_on_every_api_route_never_answer_5xx(client: TestClient, platform: Platform) -> None:
    ids = plant(client, platform)
    login(client, "admin-ncc")
    walked = 0
    for method, path in api_operations(client):
        if "{" in path:  # path parameters: out of range, negative, not a number
            for value in (HUGE, -1, "abc"):
                response = client.request(method, fill(path, ids, value), json=body_for(path, ids) or None)
                if response.status_code >= 400:
                    assert_shape(response, f"{method} {path} with {value!r}")
                walked += 1
        if method not in {"POST", "PUT", "PATCH"}:
            continue
        url = fill(path, ids)
        bodies: list[Any] = [[], "text", HUGE, {}]
        sample = body_for(path, ids)
        bodies += [{**sample, key: bad} for key in sample for bad in BAD_VALUES]
        for body in bodies:
            response = client.request(method, url, json=body)
            if response.status_code >= 400:
                assert_shape(response, f"{method} {path} {str(body)[:80]}")
            walked += 1
        response = client.request(method, url, content=b"{\x00garbage", headers={"content-type": "application/json"})
        if response.status_code >= 400 or body_for(path, ids):  # a route without a body may ignore it
            assert_shape(response, f"{method} {path} garbage")
    assert walked > 200
