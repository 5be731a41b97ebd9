"""The incident category an alert suggests, judged on real rule content (mamori's own packs, the website
watch's rules and, where present, SigmaHQ's)."""

from __future__ import annotations

from datetime import UTC, datetime

from mamori.alerts import service as alerts
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from mamori.detect.engine import CONTENT_RULES
from mamori.detect.loader import load
from mamori.incidents.categories import category_for, category_of_rule
from mamori.incidents.enums import Category
from mamori.storage.db import Database
from mamori.websites.detections import PRODUCER, RULES
from tests.conftest import seed_tenants, shared_data


def _by_title(paths: list) -> dict[str, Category]:  # type: ignore[type-arg]
    loaded = load(paths)
    assert not loaded.refused
    return {
        rule.title: category_of_rule(
            producer="correlation" if rule in (c for _, c in loaded.correlations) else "sigma",
            rule_id=str(rule.id),
            title=rule.title,
            tags=[str(t) for t in rule.tags],
        )
        for _, rule in [*loaded.rules, *loaded.correlations]
    }


def test_mamoris_own_rules_suggest_the_category_of_what_they_detect() -> None:
    found = _by_title([CONTENT_RULES])
    assert found["Web Login Brute Force From One Client"] is Category.UNAUTHORISED_ACCESS
    assert found["Brute Force Against One Account From One Source"] is Category.UNAUTHORISED_ACCESS
    assert found["Password Spraying From One Source"] is Category.UNAUTHORISED_ACCESS
    assert found["Successful Logon After Failed Logons (Brute Force Succeeded)"] is Category.UNAUTHORISED_ACCESS
    assert found["SQL Injection Attempt in Request"] is Category.UNAUTHORISED_ACCESS
    assert found["HTTP Flood From One Client"] is Category.DDOS
    assert found["Vulnerability Scanner User Agent"] is Category.OTHER  # reconnaissance: nothing to respond to yet
    assert Category.DEFACEMENT not in found.values()  # no log rule can see a defaced page


def test_the_website_watch_rules_suggest_defacement_or_availability() -> None:
    def of(kind: str) -> Category:
        rule = RULES[kind]
        return category_of_rule(producer=PRODUCER, rule_id=rule.id, title=rule.title, tags=("website", *rule.tags))

    assert of("defaced") is Category.DEFACEMENT
    assert of("foreign_script") is Category.DEFACEMENT
    assert of("down") is Category.DDOS
    assert of("tls_expiring") is Category.OTHER


def test_sigmahq_malware_rules_suggest_malware() -> None:
    folder = shared_data("sigma", "sigmahq", "rules", "windows", "process_creation")
    found = _by_title(
        [
            folder / "proc_creation_win_hktl_mimikatz_command_line.yml",  # credential dumping: a tool, not a guess
            folder / "proc_creation_win_hktl_cobaltstrike_load_by_rundll32.yml",  # tagged attack.stealth
        ]
    )
    assert set(found.values()) == {Category.MALWARE}, found


def test_a_brute_force_alert_suggests_unauthorised_access_not_defacement(db: Database) -> None:
    seed_tenants(db)
    with db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="correlation",
                    rule_id="9d2c1f3b-6a7e-4e0b-8c55-2f1d7b0a4e93",
                    rule_title="Web Login Brute Force From One Client",
                    severity=Severity.HIGH,
                    org="mof",
                    timestamp=datetime.now(UTC),
                    entities={"client_ip": "198.51.100.7"},
                    tags=("attack.credential-access", "attack.t1110.001"),
                )
            ],
        )
        assert category_for(folded.alert) is Category.UNAUTHORISED_ACCESS
