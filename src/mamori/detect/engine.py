"""The in-process Sigma engine used by the live pipeline, the edge sensors and ``mamori hunt``.

    engine = Engine([Path("rules/sigmahq"), CONTENT_RULES], cache_dir=default_cache_dir())
    detections = engine.match(events)          # batch API: list[Detection]
    engine.reload()                            # re-read the packs, swap atomically

Per event: route to one bucket (Channel+EventID or ``source``), ask its literal prefilter for candidate rules,
evaluate only those predicates exactly. In a batch, the events of one bucket are viewed and prefiltered
together, field by field (:mod:`mamori.detect.columns`); the answer is the same as event by event. A rule that
raises is counted in ``errors`` and skipped for that event; an event that cannot be read is counted in
``bad_events``; the batch goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import compress
from pathlib import Path
from typing import Any

from mamori.core.messages import HOST, ORG, Detection, Event
from mamori.core.severity import Severity
from mamori.detect import actors, build, columns, routing
from mamori.detect.compiler import Plan
from mamori.detect.correlation import CorrelationEngine
from mamori.detect.databases import DatabaseStore
from mamori.detect.loader import Refusal
from mamori.detect.matchers import KEYWORDS
from mamori.detect.prefilter import Bucket
from mamori.detect.ruleset import RuleSet
from mamori.detect.views import flatten, keyword_text, views

CONTENT_RULES = routing.CONTENT / "rules"
_COLUMNS_FROM = 8  # fewer events of one route are viewed one by one (the column set-up would cost more)

# entity → the event fields that name it, first present wins (Windows logon, Suricata EVE, Sysmon network …)
_ENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "host": (HOST,),
    "user": ("User",),
    "target_user": ("TargetUserName",),
    "src_ip": ("IpAddress", "src_ip", "SourceIp"),
    "dst_ip": ("dst_ip", "DestinationIp"),
    "client_ip": ("c-ip",),
    "image": ("Image",),
    "url": ("c-uri",),
}
_NO_VALUE = (None, "", "-")


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
        rules = RuleSet(plans, codes, DatabaseStore(self.cache_dir / "hyperscan" if self.cache_dir else None))
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
        return self.rules.routes_to_rules(channel, event_id, source)

    def evaluate(self, event: Event) -> list[Plan]:
        """The rules one event matches (each rule once, even when several variants match)."""
        return self.evaluate_many([event])[0]

    def evaluate_many(self, events: Sequence[Event]) -> list[list[Plan]]:
        """:meth:`evaluate` for each event; events of one route are viewed and prefiltered as columns."""
        rules = self.rules
        out: list[list[Plan]] = [[] for _ in events]
        groups: dict[int, tuple[Bucket, list[int], list[Event]]] = {}
        bucket_of = rules.bucket
        for position, event in enumerate(events):  # once per event: kept lean
            try:
                flat = event if event.get("source") == "windows" else flatten(event)  # Windows events are flat
                bucket = bucket_of(flat)
            except Exception:  # an event no rule can read (odd value types): counted, the batch goes on
                self.bad_events += 1
                continue
            group = groups.get(id(bucket))
            if group is None:
                if bucket.empty:
                    continue
                group = groups[id(bucket)] = (bucket, [], [])
            group[1].append(position)
            group[2].append(flat)
        for bucket, positions, flats in groups.values():
            lows, candidates = self._prefilter(bucket, flats)
            self._run(rules, positions, lows, candidates, flats, out)
        return out

    def _prefilter(self, bucket: Bucket, flats: list[Event]) -> tuple[list[dict[str, Any]], list[set[int]]]:
        """(views, candidates), one of each per event: by columns when there are a few events, else one by one."""
        if len(flats) >= _COLUMNS_FROM:
            try:
                return columns.scan(bucket, flats)
            except Exception:  # noqa: S110 - an odd event: the event-by-event path isolates and counts it
                pass
        lows: list[dict[str, Any]] = []
        found: list[set[int]] = []
        for flat in flats:
            try:
                _, low = views(flat, bucket.reads)
                candidates = bucket.candidates(low, flat)
            except Exception:  # an event no rule can read (odd value types): counted, the batch goes on
                self.bad_events += 1
                low, candidates = {}, set()
            lows.append(low)
            found.append(candidates)
        return lows, found

    def _run(
        self,
        rules: RuleSet,
        positions: list[int],
        lows: list[dict[str, Any]],
        candidates: list[set[int]],
        flats: list[Event],
        out: list[list[Plan]],
    ) -> None:
        """Evaluate each event's candidate predicates exactly into ``out``; a rule that raises is counted, skipped.

        One call per route and batch, its lookups hoisted: this loop runs once per event with candidates.
        """
        predicates, plans, keyword_rules = rules.predicates, rules.plans, rules.keyword_rules
        for i in compress(range(len(positions)), candidates):  # only the events with candidates
            low, flat, indices = lows[i], flats[i], candidates[i]
            if KEYWORDS not in low and not keyword_rules.isdisjoint(indices):
                low[KEYWORDS] = keyword_text(flat)  # the column views leave it out: most events never need it
            matched: list[int] = []
            for index in indices:
                try:
                    if predicates[index](low, flat):
                        matched.append(index)
                except Exception:  # isolate one rule's failure (e.g. an odd value type) from the batch
                    self.errors[plans[index].rule_id] += 1
            if matched:
                found: dict[str, Plan] = {}  # each rule once, in rule order, whichever variants matched
                for index in sorted(matched):
                    found.setdefault(plans[index].rule_id, plans[index])
                self.hits.update(found.keys())
                out[positions[i]] = list(found.values())

    def match(self, events: Iterable[Event], *, org: str = "") -> list[Detection]:
        """Batch API for the pipeline: every detection (rule hits, completed correlations) in event order."""
        out: list[Detection] = []
        correlations = self.correlations
        batch = list(events)
        for event, plans in zip(batch, self.evaluate_many(batch), strict=True):
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
    found: dict[str, str] = {}
    for name, fields in _ENTITY_FIELDS.items():
        value = next((event[f] for f in fields if event.get(f) not in _NO_VALUE), None)
        if value is not None:
            found[name] = str(value)
    return found


def detection(plan: Plan, event: Event, *, org: str) -> Detection:
    return Detection(
        producer="sigma",
        rule_id=plan.rule_id,
        rule_title=plan.title,
        severity=Severity.parse(plan.level),
        org=str(event.get(ORG) or org),
        timestamp=event_time(event),
        entities=entities(event),
        identity=actors.identity(event),
        events=(event,),
        tags=plan.tags,
        description=plan.description,
    )
