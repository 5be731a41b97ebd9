"""How the console shows an error: inside the page frame (navigation, logout), in words, losing nothing typed.

A refused form post re-shows the page the form was on (the referring page, rendered again by an in-process GET
with the caller's cookies), with the message inside the form, the refused fields marked and every value the
person typed put back (never a password or a file). Any other error, or a form whose page cannot be rendered
again, gets the error page: a human title, the message, what was typed, and links onward.

The mapping from exception to status and message is `mamori.api.errors.problem_of`; this module only draws it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import lxml.html
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse, Response
from starlette.types import Message

from mamori.accounts import service as accounts
from mamori.accounts.principal import Principal
from mamori.api.deps import SESSION_COOKIE
from mamori.api.errors import Problem
from mamori.core.errors import AuthenticationRequired, MamoriError
from mamori.i18n import _
from mamori.web.console import back, page

log = logging.getLogger(__name__)
NOT_SHOWN_AGAIN = {"csrf_token", "password"}  # never echoed into a page
SKIPPED_INPUTS = {"hidden", "password", "file", "submit", "button", "image", "reset"}
KEPT_SCOPE = ("type", "asgi", "http_version", "scheme", "server", "client")  # of the post, for the page's GET
Typed = Mapping[str, list[str]]


async def render(request: Request, problem: Problem) -> Response:
    if isinstance(problem.exc, AuthenticationRequired):
        return back("/login")
    principal = _principal(request)
    typed = _typed(request, problem)
    if typed and request.method == "POST" and problem.status < 500:
        again = await _form_again(request, problem, typed)
        if again is not None:
            return again
    title = problem.title
    if problem.status == 403 and request.method in ("GET", "HEAD"):
        title = _("You may not open this page")
    return page(
        request,
        "error.html",
        principal,
        status_code=problem.status,
        title=title,
        problem=problem.body,
        typed={k: v for k, v in (typed or {}).items() if k not in NOT_SHOWN_AGAIN},
        referer=_same_site_referer(request),
        incident_id=getattr(problem.exc, "incident_id", None),  # a refusal naming an incident links to it
    )


def _principal(request: Request) -> Principal | None:
    """The caller, for the frame's navigation: resolved by the route already, or from the cookie (a 404 page)."""
    known: Principal | None = getattr(request.state, "principal", None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if known is not None or not cookie:
        return known
    try:
        with request.app.state.platform.db.session() as session:
            principal, stored = accounts.resolve_session(session, cookie=cookie)
            request.state.csrf_token = stored.csrf_token
            return principal
    except MamoriError:
        return None


def _typed(request: Request, problem: Problem) -> dict[str, list[str]] | None:
    """What the person sent in the form: read by the CSRF check, or by FastAPI's validation (kept on the error)."""
    form = getattr(request.state, "form", None) or getattr(problem.exc, "body", None)
    if form is None or not hasattr(form, "multi_items"):
        return None
    typed: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, UploadFile):
            typed.setdefault(key, []).append(value)
    return typed


def _same_site_referer(request: Request) -> str | None:
    referer = urlsplit(request.headers.get("referer", ""))
    # "//host/..." would be a link to another site: only a path of this one is linked or rendered again
    if referer.netloc != request.url.netloc or not referer.path.startswith("/") or referer.path.startswith("//"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


async def _form_again(request: Request, problem: Problem, typed: Typed) -> Response | None:
    referer = _same_site_referer(request)
    if referer is None:
        return None
    html = await _get(request, referer)
    if html is None:
        return None
    refilled = refill(html, action=request.url.path, typed=typed, problem=problem)
    return HTMLResponse(refilled, status_code=problem.status) if refilled is not None else None


async def _get(request: Request, target: str) -> str | None:
    """The page at `target` as the caller would see it: an in-process GET with their cookies."""
    path, _sep, query = target.partition("?")
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"content-type", b"content-length")]
    scope = {
        **{k: v for k, v in request.scope.items() if k in KEPT_SCOPE},
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "state": {},
    }
    status = 0
    body: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    try:
        await request.app(scope, receive, send)
    except Exception:  # the page itself failing: fall back to the error page
        log.exception("could not render %s again to re-show a form", path)
        return None
    return b"".join(body).decode() if status == 200 else None


def refill(html: str, *, action: str, typed: Typed, problem: Problem) -> str | None:
    """`html` with the form posting to `action` filled with `typed` and the message in it; None without one."""
    doc = lxml.html.document_fromstring(html)
    form = _best_form(doc, action, typed)
    if form is None:
        return None
    refused = {f.loc.rsplit(".", 1)[-1] for f in problem.body.fields} | {problem.body.where or ""}
    for element in form.inputs:
        name = element.get("name")
        if not name:
            continue
        if name in refused:
            element.set("aria-invalid", "true")
        if name in typed and name not in NOT_SHOWN_AGAIN:
            _put_back(element, typed[name])
    note = lxml.html.fragment_fromstring('<p class="error form-error" role="alert" id="form-error"></p>')
    note.text = f"{problem.title}: {problem.body.message}"
    incident_id = getattr(problem.exc, "incident_id", None)
    if isinstance(incident_id, int):  # a refusal naming an incident leads to it (one alert, one incident)
        link = lxml.html.fragment_fromstring('<a class="button" id="error-incident"></a>')
        link.set("href", f"/incidents/{incident_id}")
        link.text = _("Go to incident #%(id)s", id=incident_id)
        note.append(link)
        link.tail = ""
    form.insert(0, note)
    out = lxml.html.tostring(doc, encoding="unicode", doctype="<!doctype html>")
    return re.sub(r"<svg([^>]*) viewbox=", r"<svg\1 viewBox=", out)  # the HTML parser lower-cases SVG's attribute


def _best_form(doc: lxml.html.HtmlElement, action: str, typed: Typed) -> lxml.html.FormElement | None:
    """Of the forms posting to `action`, the one whose fields (and pressed button) match the most typed names."""
    best, best_score = None, -1
    for form in doc.forms:
        if urlsplit(form.get("action") or "").path != action:
            continue
        score = 0
        for element in form.iter("input", "select", "textarea", "button"):
            name = element.get("name")
            if name in typed and name != "csrf_token":
                pressed = element.tag == "button" and element.get("value") in typed[name]
                score += 3 if pressed else 1
        if score > best_score:
            best, best_score = form, score
    return best


def _put_back(element: lxml.html.HtmlElement, values: list[str]) -> None:
    if element.tag == "textarea":
        element.value = values[0]
    elif element.tag == "select":
        options = {o.get("value", o.text_content()) for o in element.iter("option")}
        if values[0] in options:
            element.value = values[0]
    elif element.tag == "input":
        kind = (element.get("type") or "text").lower()
        if kind in ("checkbox", "radio"):
            element.checked = element.get("value", "on") in values
        elif kind not in SKIPPED_INPUTS:
            element.set("value", values[0])
