"""An alert never merges two actors: every producer's detections carry the entities that tell actors apart, and
the alert's dedup key is made of them.

The walk goes over every producer: each builtin rule (plain and correlation) on its own positive samples, the
website watch, a producer that names no identity (future indicator hits), and the generic Sigma path with the
SigmaHQ rules when the shared data is present. For each, two detections that differ only in an entity telling
actors apart must give two keys, and the same detection delivered again the same key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.alerts.models import Alert, AlertEvent
from mamori.alerts.service import dedup_key
from mamori.asgi import create_app
from mamori.core.messages import Detection, started
from mamori.core.severity import Severity
from mamori.detect.engine import CONTENT_RULES, Engine, detection
from mamori.platform import Platform
from mamori.websites.detections import WatchState, evaluate
from mamori.websites.results import CheckResult, FailureKind
from mamori.websites.schemas import SiteExpectations
from tests.conftest import make_token
from tests.detect.conftest import SIGMAHQ, SIGMAHQ_DIRS, need
from tests.detect.test_content_rules import expand

# Sigma-taxonomy fields that tell one actor (or attacked account/machine) from another, written here by hand
# and independently of the code under test: a builtin rule's samples and SigmaHQ's rules are checked against it.
TELLS_ACTORS_APART = frozenset(
    {
        "host",
        "c-ip",
        "src_ip",
        "dst_ip",
        "dest_ip",
        "SourceIp",
        "DestinationIp",
        "IpAddress",
        "ClientIP",
        "sourceIPAddress",
        "CallerIpAddress",
        "User",
        "TargetUserName",
        "SubjectUserName",
        "AccountName",
        "SamAccountName",
        "WorkstationName",
        "ComputerName",
        "DestinationHostname",
        "SourceHostname",
        "UserId",
        "userIdentity.arn",
        "userIdentity.userName",
        "actor.alternateId",
        "protoPayload.authenticationInfo.principalEmail",
        "cs-username",
    }
)


def _other(value: Any) -> str:
    return f"{value}-other" if str(value).count(".") != 3 else str(value).rsplit(".", 1)[0] + ".254"


def _samples() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for tests in sorted(CONTENT_RULES.rglob("*.tests.yml")):
        for doc in yaml.safe_load_all(tests.read_text(encoding="utf-8")):
            for case in doc.get("positive") or []:
                yield doc["rule_id"], expand(case["events"])


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine([CONTENT_RULES], cache_dir=tmp_path_factory.mktemp("cache"))


def _keys_of(engine: Engine, rule_id: str, stream: list[dict[str, Any]]) -> list[str]:
    engine.reload()  # fresh correlation state
    return [dedup_key(d) for d in engine.match([dict(e) for e in stream], org="mof") if d.rule_id == rule_id]


def test_every_builtin_rule_gives_distinct_actors_distinct_alerts(content: Engine) -> None:
    value_fields = {c.rule_id: c.value_field for c in content.correlations.rules}
    emitting = {p.rule_id for p in content.rules.plans if content.correlations.emits(p)}
    emitting |= {c.rule_id for c in content.correlations.rules}
    checked: dict[str, int] = {}
    merged: list[str] = []
    for rule_id, stream in _samples():
        keys = _keys_of(content, rule_id, stream)
        if rule_id not in emitting:
            continue  # a base rule that reports only through its correlations
        assert keys, f"{rule_id}: its positive sample made no detection"
        assert _keys_of(content, rule_id, stream) == keys, f"{rule_id}: redelivery must give the same key"
        # the counted value of a value_count correlation varies within one actor's activity by definition
        fields = {f for e in stream for f in e if f in TELLS_ACTORS_APART} - {value_fields.get(rule_id)}
        for name in sorted(fields):
            other = [{**e, name: _other(e[name])} if name in e else e for e in stream]
            other_keys = _keys_of(content, rule_id, other)
            assert other_keys, f"{rule_id}: no detection once {name} changed"
            if set(other_keys) & set(keys):
                merged.append(f"{rule_id}: another {name} folds into the same alert")
            checked[rule_id] = checked.get(rule_id, 0) + 1
    assert merged == []
    assert set(checked) == emitting, f"rules whose actors were never told apart: {sorted(emitting - set(checked))}"


def test_one_client_repeating_an_attack_on_many_urls_stays_one_alert(content: Engine) -> None:
    """The other side: what varies with every repeat of one attack (the URL, the user agent) does not split it."""
    sqli = "62b1eabc-5bd0-483e-bb59-3fc596929d13"
    events = [
        {
            "source": "webserver",
            "c-ip": "5.188.206.74",
            "c-uri": f"/news?id={n}%20union%20select%201",
            "cs-user-agent": ua,
        }
        for n, ua in enumerate(("sqlmap/1.8", "Mozilla/5.0", "curl/8.0"))
    ]
    content.reload()
    keys = {dedup_key(d) for d in content.match(events, org="mof") if d.rule_id == sqli}
    assert len(keys) == 1


def test_a_long_burst_keeps_its_first_event_so_the_alert_starts_when_the_burst_did(content: Engine) -> None:
    flood = "1e0b77c8-3a31-4f0c-96f5-a8cf16a2ef76"  # HTTP Flood From One Client: 300 requests in a minute
    stream = expand(
        [{"repeat": 300, "every": "100ms", "event": {"source": "webserver", "c-ip": "45.155.205.3", "c-uri": "/"}}]
    )
    content.reload()
    (found,) = [d for d in content.match(stream, org="mof") if d.rule_id == flood]
    assert len(found.events) == 20 and found.events[0]["@timestamp"] == stream[0]["@timestamp"]
    assert started(found) == datetime.fromisoformat(stream[0]["@timestamp"].replace("Z", "+00:00"))


SITE = SiteExpectations(site_id="mof-a", org="mof", url="https://www.mof.example/a", failures_before_alert=1)


def test_website_detections_tell_two_pages_of_one_host_apart() -> None:
    def down(site: SiteExpectations) -> Detection:
        at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        result = CheckResult(
            site_id=site.site_id, org=site.org, url=site.url, checked_at=at, up=False,
            failure=FailureKind.CONNECT, error="connection refused",
        )  # fmt: skip
        (found,) = evaluate(site, result, WatchState()).detections
        return found

    other = SITE.model_copy(update={"site_id": "mof-b", "url": "https://www.mof.example/b"})
    assert dedup_key(down(SITE)) == dedup_key(down(SITE))
    assert dedup_key(down(SITE)) != dedup_key(down(other))


def test_a_producer_that_names_no_identity_is_told_apart_by_every_entity() -> None:
    def hit(entities: dict[str, str]) -> Detection:
        return Detection(
            producer="indicator",
            rule_id="intel:ip",
            rule_title="Known bad address",
            severity=Severity.HIGH,
            org="mof",
            timestamp=datetime(2026, 11, 23, tzinfo=UTC),
            entities=entities,
        )

    base = {"src_ip": "203.0.113.9", "indicator": "campaign-1"}
    for name in base:
        assert dedup_key(hit(base)) != dedup_key(hit({**base, name: "other"})), name


def test_every_sigmahq_rule_tells_its_actor_fields_apart(tmp_path_factory: pytest.TempPathFactory) -> None:
    need(SIGMAHQ)
    engine = Engine(SIGMAHQ_DIRS, cache_dir=tmp_path_factory.mktemp("sigmahq"))
    checked = 0
    for plan in engine.rules.plans:
        if not engine.correlations.emits(plan):
            continue
        for name in sorted(((plan.reads or frozenset()) | set(plan.fields)) & TELLS_ACTORS_APART):
            # the machine is the same in both (unless it is the field under test: then it is what differs)
            one = detection(plan, {"host": "ws1", name: "198.51.100.1"}, org="mof")
            two = detection(plan, {"host": "ws1", name: "198.51.100.2"}, org="mof")
            assert dedup_key(one) != dedup_key(two), f"{plan.path}: {name} does not tell actors apart"
            checked += 1
    assert checked > 100  # SigmaHQ rules read these fields by the hundred: a walk that found none is broken


# --- at the platform: two clients brute-forcing one ministry's login -------------------------------------------

BRUTE_FORCE = "9d2c1f3b-6a7e-4e0b-8c55-2f1d7b0a4e93"  # Web Login Brute Force From One Client
T0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
CLIENTS = {"5.188.206.74": T0, "185.220.101.9": T0 + timedelta(seconds=31)}  # the second starts later


def _failed_login(ip: str, at: datetime) -> str:
    stamp = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{stamp}] "POST /admin/login HTTP/1.1" 401 320 "-" "Mozilla/5.0"'


@pytest.fixture
def live(platform: Platform, content: Engine) -> Iterator[TestClient]:
    content.reload()
    platform.matcher = content
    with TestClient(create_app(platform)) as c:
        yield c


def test_two_clients_brute_forcing_one_ministry_make_two_alerts(live: TestClient, platform: Platform) -> None:
    lines = [(at + timedelta(seconds=3 * i), ip) for ip, at in CLIENTS.items() for i in range(12)]
    body = "\n".join(_failed_login(ip, at) for at, ip in sorted(lines)).encode()  # interleaved, in time order
    token = make_token(platform.db, "mof", sensor="web1")
    response = live.post("/api/v1/ingest?format=webaccess", content=body, headers={"Authorization": f"Bearer {token}"})
    assert response.json()["accepted"] == 24
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(_brute_force_alerts(platform)) < 2:
        time.sleep(0.05)
    alerts = _brute_force_alerts(platform)
    assert sorted(a.entities["c-ip"] for a in alerts) == sorted(CLIENTS)
    with platform.db.session() as s:
        for alert in alerts:
            ip = alert.entities["c-ip"]
            assert alert.first_seen == CLIENTS[ip]  # its own first failed login, not the other client's
            kept = s.scalars(select(AlertEvent.event).where(AlertEvent.alert_id == alert.id)).all()
            assert kept and {e["c-ip"] for e in kept} == {ip}


def _brute_force_alerts(platform: Platform) -> list[Alert]:
    with platform.db.session() as s:
        return list(s.scalars(select(Alert).where(Alert.rule_id == BRUTE_FORCE).order_by(Alert.id)).all())
