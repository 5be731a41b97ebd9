"""Console errors: inside the page frame, in words, the form re-shown with what was typed; no input answers 5xx.

The table-driven walk posts bad values to every console form route of the app (enumerated, so a new form is
walked without editing this test).
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mamori.platform import Platform
from mamori.web import console, events_page, incident_pages, response_pages, website_pages
from tests.api.test_tenancy import plant
from tests.conftest import login

HUGE = str(2**63)
CLASS_NAMES = re.compile(r"<h1>\s*(ValidationFailed|TransitionRefused|NotFound|PermissionDenied|Conflict)")


def referer(path: str) -> dict[str, str]:
    return {"referer": f"http://testserver{path}"}


def assert_framed(response: Any, context: str) -> lxml.html.HtmlElement:
    """A console answer that is not a 5xx, inside the frame (navigation, logout), titled in words."""
    assert response.status_code < 500, f"{context} → {response.status_code} {response.text[:300]}"
    assert not CLASS_NAMES.search(response.text), f"{context}: a class name as the title"
    doc = lxml.html.document_fromstring(response.text)
    assert doc.cssselect("form[action='/logout']"), f"{context}: no logout"
    assert doc.cssselect("header nav a"), f"{context}: no navigation"
    return doc


def test_bad_enum_values_re_show_the_form_with_the_message(client: TestClient, platform: Platform) -> None:
    ids = plant(client, platform)
    login(client, "admin-ncc")
    org = client.post(
        "/admin/orgs",
        data={"org_id": "new-ministry", "name": "Ministry typed by hand", "kind": "planet"},
        headers=referer("/admin"),
    )
    assert org.status_code == 422
    doc = assert_framed(org, "kind=planet")
    (form,) = [f for f in doc.forms if f.get("action") == "/admin/orgs"]
    assert "The form has a problem" in form.text_content() and "kind" in form.text_content()
    assert form.inputs["org_id"].value == "new-ministry"
    assert form.inputs["name"].value == "Ministry typed by hand"
    assert form.inputs["kind"].get("aria-invalid") == "true"

    alert_page = f"/alerts/{ids['alert_id']}"
    for data in ({"action": "explode"}, {"action": "close", "resolution": "nonsense", "comment": "typed words"}):
        response = client.post(f"{alert_page}/actions", data=data, headers=referer(alert_page))
        assert response.status_code == 422, data
        doc = assert_framed(response, str(data))
        assert doc.cssselect("#form-error"), "the message is in the form"
        assert doc.cssselect("h1")[0].text_content().strip() != "ValidationFailed"


def test_user_form_keeps_what_was_typed_but_never_the_password(client: TestClient) -> None:
    login(client, "admin-ncc")
    response = client.post(
        "/admin/users",
        data={"username": "kept-name", "password": "short", "org_id": "mof", "role": "emperor", "display_name": "K"},
        headers=referer("/admin"),
    )
    assert response.status_code == 422
    doc = assert_framed(response, "role=emperor")
    (form,) = [f for f in doc.forms if f.get("action") == "/admin/users"]
    assert form.inputs["username"].value == "kept-name"
    assert form.inputs["display_name"].value == "K"
    assert not form.inputs["password"].value
    assert "short" not in response.text.replace("shorter", "")


def test_without_a_referer_the_error_page_shows_what_was_typed(client: TestClient) -> None:
    login(client, "admin-ncc")
    response = client.post("/admin/orgs", data={"org_id": "x1", "name": "Typed <b>name</b>", "kind": "planet"})
    assert response.status_code == 422
    doc = assert_framed(response, "no referer")
    assert doc.cssselect("h1")[0].text_content() == "The form has a problem"
    assert "Typed <b>name</b>" in doc.cssselect("dl.typed")[0].text_content()  # shown, escaped
    assert "<b>name</b>" not in response.text


def test_a_forbidden_page_keeps_the_frame_and_says_so(client: TestClient) -> None:
    login(client, "trainer-mof")
    response = client.get("/alerts")
    assert response.status_code == 403
    doc = assert_framed(response, "trainer /alerts")
    assert doc.cssselect("h1")[0].text_content() == "You may not open this page"


def test_an_unknown_page_is_a_framed_not_found(client: TestClient) -> None:
    login(client, "org_officer-mof")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert assert_framed(response, "404").cssselect("h1")[0].text_content() == "Not found"


def test_a_bug_on_a_console_page_is_a_framed_generic_500(client: TestClient) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    client.app.add_api_route("/test-broken", broken)  # type: ignore[attr-defined]
    login(client, "admin-ncc")
    response = client.get("/test-broken")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Something went wrong" in response.text
    assert "Content-Security-Policy" in response.headers


def console_routes(method: str) -> list[APIRoute]:
    """Every console route of `method` (the console's routers, as asgi.create_app includes them)."""
    routers = (console, website_pages, incident_pages, response_pages, events_page)
    return [r for m in routers for r in m.router.routes if isinstance(r, APIRoute) and method in r.methods]


def console_forms() -> list[APIRoute]:
    return [r for r in console_routes("POST") if r.path not in ("/login", "/logout")]


def test_bad_values_on_every_console_form_never_answer_5xx(client: TestClient, platform: Platform) -> None:
    ids = plant(client, platform)
    login(client, "admin-ncc")
    walked = 0
    for route in console_forms():
        fields = [p.alias for p in route.dependant.body_params]
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), route.path)
        huge_url = re.sub(r"\{(\w+)\}", HUGE, route.path)
        baseline = dict.fromkeys(fields, "1")
        cases: list[tuple[str, dict[str, str]]] = [(url, {}), (huge_url, baseline)]
        for name in fields:
            for bad in ("explode", HUGE, "-1", "", "x" * 20_000, "2030-13-45"):
                cases.append((url, {**baseline, name: bad}))
        for target, data in cases:
            files = {"file": ("a.txt", b"x")} if "file" in data else None
            data = {k: v for k, v in data.items() if k != "file"}
            response = client.post(target, data=data, files=files, headers=referer("/admin"))
            assert response.status_code < 500, f"POST {target} {str(data)[:120]} → {response.status_code}"
            if response.status_code >= 400:
                assert_framed(response, f"POST {target} {str(data)[:120]}")
            walked += 1
    assert walked > 100


def test_a_referer_is_never_turned_into_a_link_to_another_site(client: TestClient) -> None:
    login(client, "admin-ncc")
    for sent in ("http://testserver//evil.example/x", "https://evil.example/admin"):
        response = client.post(
            "/admin/orgs", data={"org_id": "x2", "name": "n", "kind": "planet"}, headers={"referer": sent}
        )
        assert response.status_code == 422
        assert "evil.example" not in response.text
