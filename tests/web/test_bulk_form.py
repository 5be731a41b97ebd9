"""The console's bulk form over HTTP: closing asks first, bad input gets a clear refusal (never a 500), and the
way back stays on the alert list."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
from mamori.platform import Platform
from tests.conftest import login
from tests.platform.test_alerts import det


def statuses(platform: Platform) -> set[str]:
    with platform.db.session() as s:
        return set(s.scalars(select(Alert.status)))


def test_bulk_close_asks_first_and_refuses_without_a_reason(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        ids = [f.alert.id for f in alerts.fold(s, [det(n, ip=f"192.0.2.{n}") for n in range(3)])]
    login(client, "org_officer-mof")
    form = {"action": "close", "ids": [str(i) for i in ids], "back_to": "https://evil.example/alerts"}
    asked = client.post("/alerts/bulk", data=form)
    assert asked.status_code == 200 and "Close 3 alerts?" in asked.text
    assert 'href="/alerts"' in asked.text and "evil.example" not in asked.text
    assert statuses(platform) == {"new"}  # nothing closed before the confirmation
    no_reason = client.post("/alerts/bulk", data={**form, "confirmed": "yes", "resolution": "false_positive"})
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    unknown = client.post("/alerts/bulk", data={**form, "action": "delete", "confirmed": "yes"})
    assert unknown.status_code == 422
    nothing = client.post("/alerts/bulk", data={"action": "acknowledge"})
    assert nothing.status_code == 422 and "Select at least one alert" in nothing.text
    assert statuses(platform) == {"new"}
    done = client.post(
        "/alerts/bulk",
        data={**form, "confirmed": "yes", "resolution": "false_positive", "comment": "test traffic"},
    )
    assert done.status_code == 200 and "3 done, 0 refused." in done.text
    assert statuses(platform) == {"closed"}
