"""The OpenAPI document validates, says how to authenticate, documents every error in the one shape, and a
generated client builds from it and talks to the real app."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from mamori.api import deps
from mamori.api.errors import ErrorBody
from mamori.platform import Platform
from tests.conftest import login

ERROR_REF = "#/components/schemas/ErrorBody"
PUBLIC = {("/api/v1/health", "get"), ("/metrics", "get"), ("/api/v1/auth/login", "post")}
UNSAFE = {"post", "put", "patch", "delete"}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_the_document_validates(client: TestClient) -> None:
    from openapi_spec_validator import validate

    validate(client.get("/api/v1/openapi.json").json())


def test_security_schemes_name_the_real_cookie_and_csrf_header(client: TestClient) -> None:
    schemes = client.get("/api/v1/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["sessionCookie"]["name"] == deps.SESSION_COOKIE
    assert schemes["csrfHeader"]["in"] == "header"
    assert schemes["csrfHeader"]["name"].lower() == deps.CSRF_HEADER
    assert "unsafe" in schemes["csrfHeader"]["description"]

    # The documented names are the ones the server honours: the cookie logs in, the header passes CSRF.
    csrf = login(client, "admin-ncc")
    del client.headers["X-CSRF-Token"]
    assert client.get("/api/v1/orgs").status_code == 200
    body = {"id": "newmin", "name": "New ministry"}
    assert client.post("/api/v1/orgs", json=body).status_code == 403
    assert client.post("/api/v1/orgs", json=body, headers={schemes["csrfHeader"]["name"]: csrf}).status_code == 201


def test_every_operation_has_security_a_description_and_its_errors_in_the_one_shape(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    walked = 0
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path}"
        walked += 1
        assert op.get("summary") and op.get("description"), f"{where} has no summary/description"
        assert "security" in op, f"{where} does not say how to authenticate"
        errors = {int(code): r for code, r in op["responses"].items() if code[0] in "45"}
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, f"{where} {code}"
        if (path, method) in PUBLIC:
            assert op["security"] == [], where
            continue
        requirements = op["security"]
        assert all("sessionCookie" in r or "bearerAuth" in r for r in requirements), where
        for requirement in requirements:
            if "sessionCookie" in requirement:
                assert ("csrfHeader" in requirement) == (method in UNSAFE), f"{where}: CSRF {requirement}"
        assert {401, 403} <= set(errors), f"{where} lacks 401/403: {sorted(errors)}"
        if "{" in path:
            assert 404 in errors, where
        if op.get("parameters") or op.get("requestBody"):
            assert 422 in errors, where
    assert walked >= 74
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "401" in doc["paths"]["/api/v1/auth/login"]["post"]["responses"]  # a wrong password


def test_people_only_operations_do_not_offer_bearer_tokens(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    for path, method in (("/api/v1/users", "get"), ("/api/v1/tokens", "post"), ("/api/v1/audit", "get")):
        assert all("bearerAuth" not in r for r in doc["paths"][path][method]["security"]), path
    assert {"bearerAuth": []} in doc["paths"]["/api/v1/alerts"]["get"]["security"]


def test_the_ingest_body_is_documented_with_its_types_encoding_and_limit(
    client: TestClient, platform: Platform
) -> None:
    op = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/ingest"]["post"]
    body = op["requestBody"]
    assert set(body["content"]) >= {
        "application/x-ndjson",
        "application/json",
        "text/plain",
        "application/octet-stream",
    }
    assert body["x-max-body-bytes"] == platform.settings.ingest_max_bytes
    assert str(platform.settings.ingest_max_bytes) in body["description"]
    encoding = next(p for p in op["parameters"] if p["name"] == "Content-Encoding")
    assert encoding["in"] == "header" and "gzip" in encoding["schema"]["enum"]
    assert "413" in op["responses"]
    assert op["security"] == [{"bearerAuth": []}]  # a session is refused: the token names organisation and sensor


def test_schema_names_and_operation_ids_leak_no_module_paths(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    names = list(doc["components"]["schemas"])
    assert [n for n in names if "__" in n or "-" in n or "api_v1" in n] == []
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    assert "list_alerts" in ids and all("api_v1" not in i for i in ids)


def test_real_errors_answer_the_documented_shape(client: TestClient) -> None:
    unauthenticated = client.get("/api/v1/alerts")
    assert unauthenticated.status_code == 401
    ErrorBody.model_validate(unauthenticated.json())
    login(client, "national_analyst-ncc")
    missing = client.get("/api/v1/alerts/987654")
    assert missing.status_code == 404
    assert ErrorBody.model_validate(missing.json()).error == "NotFound"


def _generate_client(doc: dict[str, Any], where: Path) -> Path:
    tool = Path(sys.executable).parent / "openapi-python-client"
    if not tool.exists():
        pytest.skip("openapi-python-client is not installed (dev dependency); cannot build a generated client")
    spec = where / "openapi.json"
    spec.write_bytes(orjson.dumps(doc))
    out = where / "mamori_client"
    env = {"PATH": f"{tool.parent}:/usr/bin:/bin", "HOME": str(where)}  # it formats with ruff from the PATH
    run = subprocess.run(
        [str(tool), "generate", "--path", str(spec), "--meta", "none", "--output-path", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # Only the ingest body's plain-text types are beyond the generator; nothing else may be skipped.
    warnings = [line for line in run.stdout.splitlines() if line.startswith("WARNING")]
    assert all("/api/v1/ingest" in line for line in warnings), run.stdout
    return out


def test_a_generated_python_client_builds_imports_and_calls_the_app(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _generate_client(client.get("/api/v1/openapi.json").json(), tmp_path)
    assert shutil.which("python3")
    monkeypatch.syspath_prepend(str(out.parent))
    generated = importlib.import_module("mamori_client")
    health = importlib.import_module("mamori_client.api.health.health")
    list_orgs = importlib.import_module("mamori_client.api.accounts.list_orgs")
    get_alert = importlib.import_module("mamori_client.api.alerts.get_alert")
    models = importlib.import_module("mamori_client.models")

    api = generated.Client(base_url="http://testserver")
    api.set_httpx_client(client)  # the app's TestClient is an httpx.Client: real requests, no network
    assert health.sync_detailed(client=api).status_code == 200
    login(client, "national_analyst-ncc")
    orgs = list_orgs.sync(client=api)
    assert orgs is not None and {o.id for o in orgs} == {"ncc", "mof", "mofa"}
    missing = get_alert.sync(alert_id=987654, client=api)
    assert isinstance(missing, models.ErrorBody) and missing.error == "NotFound"
    for name in list(sys.modules):
        if name.startswith("mamori_client"):
            del sys.modules[name]
