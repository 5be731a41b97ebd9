"""Triage in Chromium: assign by name, "assign to me", "My alerts", the assignee column, bulk triage from the
list (select all, acknowledge, assign, close after a confirmation with a reason), and the incident form's
category taken from the alert."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
from mamori.audit.models import AuditEntry
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from tests.web.conftest import Server, login_as, shot


def plant(server: Server, title: str, n: int = 1, *, tags: tuple[str, ...] = ()) -> list[int]:
    with server.db.session() as s:
        folded = alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id=f"rule-{title}"[:100],
                    rule_title=title,
                    severity=Severity.MEDIUM,
                    org="mof",
                    timestamp=datetime.now(UTC),
                    entities={"client_ip": f"192.0.2.{i + 1}"},
                    tags=tags,
                )
                for i in range(n)
            ],
        )
        return [f.alert.id for f in folded]


def option_texts(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{selector} option").all_inner_texts()]


def test_assign_by_name_to_me_and_back_to_nobody(page: Any, server: Server) -> None:
    title = f"Web Login Brute Force {uuid.uuid4().hex[:8]}"
    (alert_id,) = plant(server, title, tags=("attack.credential-access", "attack.t1110.001"))
    login_as(page, server, "org_officer-mof")
    page.goto(f"{server.url}/alerts/{alert_id}")
    people = option_texts(page, "#assignee")
    assert "national_analyst-ncc" in people and "org_officer-mof" in people
    assert not [p for p in people if p.endswith("-mofa")] and "auditor-mof" not in people
    assert page.input_value("#incident-category") == "unauthorised_access"  # not the first option, defacement
    page.select_option("#assignee", label="national_analyst-ncc")
    page.click("#btn-assign")
    assert page.inner_text("#alert-assignee") == "national_analyst-ncc"
    page.click("#btn-assign-me")
    assert page.inner_text("#alert-assignee") == "org_officer-mof"
    expect(page.locator("#btn-assign-me")).to_have_count(0)  # already mine
    shot(page, "alert-assigned")
    page.locator("nav").get_by_role("link", name="My alerts").click()
    assert "assignee=me" in page.url
    row = page.locator("table.alerts tbody tr", has_text=title)
    expect(row).to_have_count(1)
    assert "org_officer-mof" in row.locator("td.assignee").inner_text()
    assert page.input_value("#filter-assignee") == "me"
    page.goto(f"{server.url}/alerts/{alert_id}")
    page.click("#btn-unassign")
    assert page.inner_text("#alert-assignee") == "nobody"
    page.goto(f"{server.url}/alerts?assignee=me&q={title}")
    assert "No alerts match" in page.inner_text("table.alerts")
    page.goto(f"{server.url}/alerts?assignee=none&q={title}")
    expect(page.locator("table.alerts tbody tr", has_text=title)).to_have_count(1)


def test_bulk_triage_of_scanner_alerts_from_the_list(page: Any, server: Server) -> None:
    title = f"Vulnerability Scanner {uuid.uuid4().hex[:8]}"
    ids = plant(server, title, 6)
    with server.db.session() as s:  # one closed already: the bulk close reports it, never fails the rest
        alerts.close_by_producer(
            s, alert=s.get(Alert, ids[5]), resolution=alerts.Resolution.DUPLICATE, note="x", actor="system"
        )  # type: ignore[arg-type]
    login_as(page, server, "national_analyst-ncc")
    page.goto(f"{server.url}/alerts?q={title}")
    page.check("#select-all")
    expect(page.locator("input.select-row:checked")).to_have_count(6)
    page.uncheck(f"input.select-row[value='{ids[5]}']")
    assert not page.is_checked("#select-all")
    page.click("#bulk-ack")
    assert page.inner_text("#bulk-summary") == "5 done, 0 refused."
    page.click("#bulk-back")
    expect(page.locator("table.alerts tbody tr", has_text="acknowledged")).to_have_count(5)
    page.check("#select-all")
    page.select_option("#bulk-assignee", label="org_officer-mof")
    shot(page, "alerts-bulk-bar")
    page.click("#bulk-assign")
    assert page.inner_text("#bulk-summary") == "6 done, 0 refused."
    page.click("#bulk-back")
    expect(page.locator("td.assignee", has_text="org_officer-mof")).to_have_count(6)
    page.check("#select-all")
    page.click("#bulk-close")
    expect(page.locator("#bulk-confirm tbody tr")).to_have_count(6)  # what would be closed, before anything is
    page.click("#btn-bulk-confirm")  # no resolution, no reason: the form refuses to send
    expect(page.locator("#bulk-confirm")).to_have_count(1)
    page.select_option("#bulk-resolution", "benign_positive")
    page.fill("#bulk-reason", "Our own weekly scanner (ticket 4711)")
    shot(page, "bulk-close-confirm")
    page.click("#btn-bulk-confirm")
    assert page.inner_text("#bulk-summary") == "5 done, 1 refused."
    assert str(ids[5]) in page.inner_text("#bulk-refused")
    shot(page, "bulk-close-done")
    with server.db.session() as s:
        rows = s.scalars(select(Alert).where(Alert.id.in_(ids))).all()
        assert {(a.status, a.resolution) for a in rows if a.id != ids[5]} == {("closed", "benign_positive")}
        closes = s.scalars(select(AuditEntry).where(AuditEntry.action == "alert.close")).all()
        bulk = [e for e in closes if e.details.get("bulk") and int(e.object_id) in ids]
        assert len(bulk) == 5 and {e.actor for e in bulk} == {"national_analyst-ncc"}
        assert {e.details["comment"] for e in bulk} == {"Our own weekly scanner (ticket 4711)"}


def test_bulk_without_a_selection_says_so(page: Any, server: Server) -> None:
    title = f"Nothing selected {uuid.uuid4().hex[:8]}"
    plant(server, title)
    login_as(page, server, "org_officer-mof")
    page.goto(f"{server.url}/alerts?q={title}")
    page.click("#bulk-ack")
    assert "Select at least one alert" in page.inner_text("main")
