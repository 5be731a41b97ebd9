"""The in-process Sigma engine used by the live pipeline, the edge sensors and ``mamori hunt``.

    engine = Engine([Path("rules/sigmahq"), CONTENT_RULES], cache_dir=default_cache_dir())
    detections = engine.match(events)          # batch API: list[Detection]
    engine.reload()                            # re-read the packs, swap atomically

Per event: route to one bucket (Channel+EventID or ``source``), ask its literal prefilter for candidate rules,
evaluate only those predicates exactly. A rule that raises is counted in ``errors`` and skipped for that
event; the batch goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori.core.messages import HOST, ORG, Detection, Event
from mamori.core.severity import Severity
from mamori.detect import build, routing
from mamori.detect.compiler import Plan
from mamori.detect.correlation import CorrelationEngine
from mamori.detect.loader import Refusal
from mamori.detect.ruleset import RuleSet
from mamori.detect.views import flatten, views

CONTENT_RULES = routing.CONTENT / "rules"

_ENTITY_FIELDS = {
    "host": HOST,
    "user": "User",
    "target_user": "TargetUserName",
    "src_ip": "IpAddress",
    "client_ip": "c-ip",
    "image": "Image",
    "url": "c-uri",
}


class Engine:
    def __init__(
        self,
        rule_dirs: Sequence[Path],
        *,
        cache_dir: Path | None = None,
        pipelines_dir: Path = routing.PIPELINES,
        min_level: Severity | None = None,
    ) -> None:
        self.rule_dirs = [Path(d) for d in rule_dirs]
        self.cache_dir = cache_dir
        self.pipelines_dir = pipelines_dir
        self.min_level = min_level
        self.hits: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.bad_events = 0
        self.reload()

    def reload(self) -> None:
        """Re-read every pack and swap the rule set in one assignment (a running batch ends on the old)."""
        compiled = build.compile_cached(self.rule_dirs, self.cache_dir, self.pipelines_dir)
        plans = [p for p in compiled.plans if self._level_ok(p.level)]
        codes = compiled.codes() if len(plans) == len(compiled.plans) else {}
        rules = RuleSet(plans, codes)
        correlations = CorrelationEngine(compiled.correlations, rules.plans)
        refused = list(compiled.refused) + [
            Refusal(p.path, p.rule_id, p.title, f"{p.variant}: {why}") for p, why in rules.broken
        ]
        self._state = (rules, correlations, refused, compiled.rule_count)

    def _level_ok(self, level: str) -> bool:
        return self.min_level is None or Severity.parse(level).rank >= self.min_level.rank

    @property
    def rules(self) -> RuleSet:
        return self._state[0]

    @property
    def correlations(self) -> CorrelationEngine:
        return self._state[1]

    @property
    def refused(self) -> list[Refusal]:
        return self._state[2]

    @property
    def rule_count(self) -> int:
        """Rules (and correlations) read from the packs, before refusals."""
        return self._state[3]

    def applies(self, channel: Any, event_id: Any, source: str = "windows") -> bool:
        """Whether any rule can match an event with this Channel/EventID (hunt skips the others unflattened)."""
        return not self.rules.route_bucket(channel, event_id, source).empty

    def evaluate(self, event: Event) -> list[Plan]:
        """The rules one event matches (each rule once, even when several variants match)."""
        rules = self.rules
        try:
            flat = flatten(event)
            bucket = rules.bucket(flat)
            _, low = views(flat, bucket.reads)
            candidates = bucket.candidates(low)
        except Exception:  # an event no rule can read (odd value types): counted, the batch goes on
            self.bad_events += 1
            return []
        found: list[Plan] = []
        seen: set[str] = set()
        predicates, plans = rules.predicates, rules.plans
        for index in sorted(candidates):
            try:
                matched = predicates[index](low, flat)
            except Exception:  # isolate one rule's failure (e.g. an odd value type) from the batch
                self.errors[plans[index].rule_id] += 1
                continue
            if matched:
                plan = plans[index]
                if plan.rule_id not in seen:
                    seen.add(plan.rule_id)
                    found.append(plan)
        for plan in found:
            self.hits[plan.rule_id] += 1
        return found

    def match(self, events: Iterable[Event], *, org: str = "") -> list[Detection]:
        """Batch API for the pipeline: every detection (rule hits, completed correlations) in event order."""
        out: list[Detection] = []
        correlations = self.correlations
        for event in events:
            plans = self.evaluate(event)
            for plan in plans:
                if correlations.emits(plan):
                    out.append(detection(plan, event, org=org))
            if correlations.active:
                out.extend(correlations.feed(event, plans, org=org))
        return out

    def stats(self) -> dict[str, Any]:
        rules = self.rules
        return {
            "rules_loaded": len({p.rule_id for p in rules.plans}),
            "variants": len(rules.plans),
            "correlations": len(self.correlations.rules),
            "refused": len(self.refused),
            "hits": dict(self.hits),
            "errors": dict(self.errors),
            "bad_events": self.bad_events,
        }


def event_time(event: Event) -> datetime:
    stamp = event.get("@timestamp")
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)


def entities(event: Event) -> dict[str, str]:
    return {name: str(event[f]) for name, f in _ENTITY_FIELDS.items() if event.get(f) not in (None, "", "-")}


def detection(plan: Plan, event: Event, *, org: str) -> Detection:
    return Detection(
        producer="sigma",
        rule_id=plan.rule_id,
        rule_title=plan.title,
        severity=Severity.parse(plan.level),
        org=str(event.get(ORG) or org),
        timestamp=event_time(event),
        entities=entities(event),
        events=(event,),
        tags=plan.tags,
        description=plan.description,
    )
