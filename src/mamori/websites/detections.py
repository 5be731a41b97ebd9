"""Turn check results into :class:`~mamori.core.messages.Detection` messages, one per active problem kind.

Each problem kind of a site (down, defaced, foreign script, TLS expiring, DNS changed ...) is an *episode*
that starts when the problem appears and ends when it goes away. Every check made while it lasts emits a
detection with the same key (site + kind + episode), so downstream deduplication counts repeats into one
alert; when it ends, :class:`WatchOutcome` lists the keys that resolved. The per-site
:class:`WatchState` is small and immutable: the lead stores it with the site.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from mamori.core.messages import Detection
from mamori.core.severity import Severity
from mamori.websites.availability import AvailabilityState, step
from mamori.websites.enums import Availability, FindingKind
from mamori.websites.integrity import DEFACED_AT, Verdict
from mamori.websites.results import CheckResult, FailureKind
from mamori.websites.schemas import SiteExpectations

PRODUCER = "website"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: Severity
    tags: tuple[str, ...] = ()


RULES = MappingProxyType(
    {
        "down": Rule("website.down", "Website unavailable", Severity.HIGH, ("availability",)),
        "defaced": Rule("website.defaced", "Website defaced", Severity.CRITICAL, ("attack.impact", "attack.t1491.002")),
        "foreign_script": Rule(
            "website.foreign_script",
            "Foreign code injected into website",
            Severity.HIGH,
            ("attack.t1059.007",),
        ),
        "link_spam": Rule("website.link_spam", "Hidden link spam injected into website", Severity.MEDIUM),
        "subresource_changed": Rule("website.subresource_changed", "Website script or style changed", Severity.MEDIUM),
        "tls_expiring": Rule("website.tls_expiring", "Website certificate expiring or expired", Severity.MEDIUM),
        "tls_invalid": Rule("website.tls_invalid", "Website certificate rejected", Severity.HIGH),
        "tls_issuer": Rule(
            "website.tls_issuer_changed", "Website certificate from an unexpected issuer", Severity.HIGH
        ),
        "dns_changed": Rule("website.dns_changed", "Website DNS answers changed", Severity.HIGH, ("attack.t1584.002",)),
    }
)
_VISUAL = frozenset(
    {FindingKind.MARKER, FindingKind.REPLACED, FindingKind.EMPTIED, FindingKind.TITLE, FindingKind.STYLING}
)
_VISUAL |= {FindingKind.CRITICAL}


@dataclass(frozen=True, slots=True)
class WatchState:
    """Per-site memory between checks."""

    availability: AvailabilityState = field(default_factory=AvailabilityState)
    episodes: Mapping[str, int] = field(default_factory=dict)  # kind -> number of its latest episode
    active: frozenset[str] = frozenset()  # kinds currently active

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for a column of the site's row."""
        a = self.availability
        return {
            "status": str(a.status),
            "consecutive_failures": a.consecutive_failures,
            "episode": a.episode,
            "since": a.since.isoformat() if a.since else None,
            "last_error": a.last_error,
            "episodes": dict(self.episodes),
            "active": sorted(self.active),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WatchState:
        since = d.get("since")
        availability = AvailabilityState(
            status=Availability(d.get("status", "unknown")),
            consecutive_failures=int(d.get("consecutive_failures", 0)),
            episode=int(d.get("episode", 0)),
            since=datetime.fromisoformat(since) if since else None,
            last_error=d.get("last_error"),
        )
        episodes = {str(k): int(v) for k, v in dict(d.get("episodes", {})).items()}
        return cls(availability, MappingProxyType(episodes), frozenset(d.get("active", ())))


@dataclass(frozen=True, slots=True)
class WatchOutcome:
    state: WatchState
    detections: tuple[Detection, ...]
    resolved: tuple[str, ...]  # keys of episodes that ended with this check


def detection_key(site_id: str, kind: str, episode: int) -> str:
    basis = f"{PRODUCER}|{site_id}|{kind}|{episode}"
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def evaluate(
    site: SiteExpectations, result: CheckResult, state: WatchState, *, exercise_id: str | None = None
) -> WatchOutcome:
    """Advance ``state`` with ``result`` and build the detections of every active problem."""
    availability, _ = step(
        state.availability,
        ok=result.up,
        at=result.checked_at,
        threshold=site.failures_before_alert,
        error=result.error,
    )
    problems = active_problems(result)
    if availability.status is Availability.DOWN:
        problems["down"] = [result.error or "site unavailable"]
    episodes = dict(state.episodes)
    episodes["down"] = availability.episode
    for kind in problems.keys() - state.active - {"down"}:
        episodes[kind] = episodes.get(kind, 0) + 1
    # A problem this check could not observe (no page, no certificate, no DNS answer) is neither
    # re-reported nor resolved: a defaced site that also goes down is still defaced.
    active = set(problems) | (state.active & _unobserved(result))
    ended = sorted(state.active - active)
    resolved = tuple(detection_key(site.site_id, k, episodes.get(k, 0)) for k in ended)
    detections = tuple(
        _detection(site, result, kind, episodes[kind], reasons, exercise_id)
        for kind, reasons in sorted(problems.items())
    )
    new_state = WatchState(availability, MappingProxyType(episodes), frozenset(active))
    return WatchOutcome(new_state, detections, resolved)


_CONTENT = frozenset({"defaced", "foreign_script", "link_spam", "subresource_changed"})
_TLS = frozenset({"tls_expiring", "tls_issuer"})


def _unobserved(result: CheckResult) -> frozenset[str]:
    unseen: set[str] = set()
    if result.verdict is None:
        unseen |= _CONTENT
    if result.status is None and result.failure is not FailureKind.TLS:  # never got through a handshake
        unseen |= _TLS | {"tls_invalid"}
    if result.dns is None or result.dns.error:
        unseen.add("dns_changed")
    return frozenset(unseen)


def active_problems(result: CheckResult) -> dict[str, list[str]]:
    """Problem kind -> reasons, from one check (availability aside, which needs history)."""
    problems: dict[str, list[str]] = {}
    if result.verdict is not None:
        problems.update(_integrity_problems(result.verdict))
    expiry = [p for p in result.tls_problems if "expire" in p]
    if expiry:
        problems["tls_expiring"] = expiry
    issuer = [p for p in result.tls_problems if "issued by" in p]
    if issuer:
        problems["tls_issuer"] = issuer
    if result.failure is FailureKind.TLS:
        problems["tls_invalid"] = [result.error or "TLS handshake failed"]
    if result.dns_problems:
        problems["dns_changed"] = list(result.dns_problems)
    return problems


def _integrity_problems(verdict: Verdict) -> dict[str, list[str]]:
    if not verdict.defaced:
        return {}
    by_kind: dict[str, list[str]] = {}
    visual = [f for f in verdict.findings if f.kind in _VISUAL]
    if _combined(f.weight for f in visual) >= DEFACED_AT:
        by_kind["defaced"] = [f.reason for f in visual]
    for name, kind in (
        ("foreign_script", FindingKind.FOREIGN_SCRIPT),
        ("link_spam", FindingKind.LINK_SPAM),
        ("subresource_changed", FindingKind.SUBRESOURCE),
    ):
        found = [f for f in verdict.findings if f.kind is kind]
        if found and _combined(f.weight for f in found) >= DEFACED_AT - 0.15:
            by_kind[name] = [f.reason for f in found]
    if not by_kind:  # only the sum of several weaker signals crossed the line
        by_kind["defaced"] = list(verdict.reasons)
    return by_kind


def _combined(weights: Iterable[float]) -> float:
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - w
    return 1.0 - remaining


def _detection(
    site: SiteExpectations,
    result: CheckResult,
    kind: str,
    episode: int,
    reasons: list[str],
    exercise_id: str | None,
) -> Detection:
    rule = RULES[kind]
    return Detection(
        producer=PRODUCER,
        rule_id=rule.id,
        rule_title=rule.title,
        severity=Severity.HIGH if kind == "tls_expiring" and any("expired" in r for r in reasons) else rule.severity,
        org=site.org,
        timestamp=result.checked_at,
        entities={"url": site.url, "host": site.host, "site_id": site.site_id},
        identity={"site_id": site.site_id},  # one watched page (two pages on one host stay two alerts)
        events=(_event(result),),
        tags=("website", *rule.tags),
        description="; ".join(reasons)[:2000],
        exercise_id=exercise_id,
        key=detection_key(site.site_id, kind, episode),
    )


def _event(result: CheckResult) -> dict[str, object]:
    """The check itself, as evidence (never the page body)."""
    return {
        "@timestamp": result.checked_at.isoformat(),
        "source": "website",
        "url": result.url,
        "final_url": result.final_url,
        "status": result.status,
        "latency_ms": result.latency_ms,
        "failure": str(result.failure) if result.failure else None,
        "error": result.error,
        "body_sha256": result.body_sha256,
        "score": result.verdict.score if result.verdict else None,
    }
