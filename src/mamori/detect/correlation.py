"""Sigma correlation rules (event_count, value_count, temporal, temporal_ordered) over a stream of rule hits.

State is windowed and bounded: per correlation, per group-by key, a time-ordered deque of the hits inside the
timespan (older ones are dropped as new ones arrive, by *event* time so that offline hunts behave like live
ones), at most :data:`MAX_HITS_PER_GROUP` hits per key and :data:`MAX_GROUPS` keys (the least recently seen
key is evicted). A correlation fires when its condition becomes true, then its group restarts, so one burst
gives one detection, not one per further event.

Not supported (refused with the reason): conditions lt/lte/neq (they need a decision at window end) and
value_sum/avg/percentile/median types; correlations over correlations.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.rule import SigmaRule

from mamori.core.messages import Detection, Event
from mamori.core.severity import Severity
from mamori.detect.compiler import Plan
from mamori.detect.errors import RuleRefused

MAX_GROUPS = 100_000
MAX_HITS_PER_GROUP = 10_000
MAX_EVENTS_KEPT = 20  # events attached to a correlation detection (the first, to say when it began, and the latest)
_TYPES = ("event_count", "value_count", "temporal", "temporal_ordered")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
}


@dataclass(frozen=True, slots=True)
class CorrelationPlan:
    """A correlation rule as plain data (picklable for the cache)."""

    rule_id: str
    title: str
    level: str
    tags: tuple[str, ...]
    description: str
    path: str
    type: str
    refs: tuple[str, ...]  # rule ids of the referenced rules, in the rule's order
    group_by: tuple[str, ...]
    aliases: dict[str, dict[str, str]]  # alias → {rule id → field}
    timespan: float
    op: str
    count: float
    value_field: str | None
    expression: Any  # ("and"|"or", a, b) / ("not", a) / rule id, for extended temporal conditions
    generate: bool


def _ref_id(ref: SigmaRuleReference) -> str:
    rule = ref.rule
    if isinstance(rule, SigmaCorrelationRule) or not isinstance(rule, SigmaRule):
        raise RuleRefused("correlations over correlations are not supported")
    return str(rule.id) if rule.id else (rule.title or ref.reference)


def _expression(node: Any, by_name: dict[str, str]) -> Any:
    if isinstance(node, SigmaRuleReference):
        return by_name.get(node.reference, node.reference)
    if isinstance(node, CorrelationConditionNOT):
        return ("not", _expression(node.args[0], by_name))
    op = "and" if isinstance(node, CorrelationConditionAND) else "or"
    if not isinstance(node, CorrelationConditionAND | CorrelationConditionOR):
        raise RuleRefused(f"unsupported correlation condition {type(node).__name__}")
    return (op, _expression(node.args[0], by_name), _expression(node.args[1], by_name))


def plan_correlation(rule: SigmaCorrelationRule, path: str) -> CorrelationPlan:
    kind = rule.type.name.lower()
    if kind not in _TYPES:
        raise RuleRefused(f"correlation type {kind} is not supported")
    refs = tuple(_ref_id(r) for r in rule.rules or ())
    by_name = {r.reference: _ref_id(r) for r in rule.rules or ()}
    cond = rule.condition
    expression: Any = None
    op, count, value_field = "gte", float(len(refs)), None
    if isinstance(cond, SigmaExtendedCorrelationCondition):
        expression = _expression(cond.parsed, by_name)
    else:
        op = cond.op.name.lower()
        count = float(cond.count)
        value_field = cond.fieldref if isinstance(cond.fieldref, str) else None
        if op not in _OPS:
            raise RuleRefused(f"correlation condition {op} needs a window-end decision: not supported")
    if kind == "value_count" and not value_field:
        raise RuleRefused("value_count needs condition.field")
    aliases = {
        a.alias: {by_name.get(ref.reference, ref.reference): f for ref, f in a.mapping.items()} for a in rule.aliases
    }
    return CorrelationPlan(
        rule_id=str(rule.id) if rule.id else (rule.title or path),
        title=rule.title or "",
        level=rule.level.name.lower() if rule.level else "medium",
        tags=tuple(str(t) for t in rule.tags),
        description=rule.description or "",
        path=path,
        type=kind,
        refs=refs,
        group_by=tuple(rule.group_by or ()),
        aliases=aliases,
        timespan=float(rule.timespan.seconds),
        op=op,
        count=count,
        value_field=value_field,
        expression=expression,
        generate=bool(rule.generate),
    )


@dataclass
class _Hit:
    time: float
    rule_id: str
    value: Any
    event: Event


@dataclass
class _State:
    plan: CorrelationPlan
    groups: OrderedDict[tuple[Any, ...], deque[_Hit]] = field(default_factory=OrderedDict)

    def add(self, key: tuple[Any, ...], hit: _Hit) -> deque[_Hit]:
        window = self.groups.pop(key, None)
        if window is None:
            window = deque(maxlen=MAX_HITS_PER_GROUP)
            if len(self.groups) >= MAX_GROUPS:
                self.groups.popitem(last=False)  # least recently seen key
        self.groups[key] = window
        while window and window[0].time < hit.time - self.plan.timespan:
            window.popleft()
        window.append(hit)
        return window


def _eval(expr: Any, seen: set[str]) -> bool:
    if isinstance(expr, str):
        return expr in seen
    if expr[0] == "not":
        return not _eval(expr[1], seen)
    left = _eval(expr[1], seen)
    right = _eval(expr[2], seen)
    return (left and right) if expr[0] == "and" else (left or right)


def fires(plan: CorrelationPlan, window: deque[_Hit]) -> bool:
    compare = _OPS[plan.op]
    if plan.type == "event_count":
        return compare(len(window), plan.count)
    if plan.type == "value_count":
        return compare(len({h.value for h in window if h.value is not None}), plan.count)
    seen = {h.rule_id for h in window}
    if plan.expression is not None:
        return _eval(plan.expression, seen)
    if plan.type == "temporal":
        return compare(len(seen & set(plan.refs)), plan.count)
    return _in_order(plan.refs, window)


def _in_order(refs: Sequence[str], window: deque[_Hit]) -> bool:
    """temporal_ordered: the referenced rules matched in the given order (a subsequence of the window)."""
    position = 0
    for hit in window:
        if hit.rule_id == refs[position]:
            position += 1
            if position == len(refs):
                return True
    return False


def event_seconds(event: Event) -> float:
    """Event time in seconds (from ``@timestamp``); events without one count as time 0."""
    stamp = event.get("@timestamp")
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return 0.0


def _field(plan: CorrelationPlan, name: str, rule_id: str) -> str:
    return plan.aliases.get(name, {}).get(rule_id, name)


class CorrelationEngine:
    """Feeds rule hits into the correlations that reference those rules."""

    def __init__(self, plans: Sequence[CorrelationPlan], rule_plans: Sequence[Plan] = ()) -> None:
        self.rules = list(plans)
        self._by_rule: dict[str, list[_State]] = {}
        for plan in self.rules:
            state = _State(plan)
            for ref in dict.fromkeys(plan.refs):
                self._by_rule.setdefault(ref, []).append(state)
        # base rules referenced only by non-generating correlations do not report on their own
        self.suppressed = {r for p in self.rules if not p.generate for r in p.refs}
        self.active = bool(self.rules)

    def emits(self, plan: Plan) -> bool:
        return plan.rule_id not in self.suppressed

    def feed(self, event: Event, plans: Sequence[Plan], *, org: str = "") -> Iterator[Detection]:
        for base in plans:
            for state in self._by_rule.get(base.rule_id, ()):
                detection = self._add(state, base.rule_id, event, org)
                if detection is not None:
                    yield detection

    def _add(self, state: _State, rule_id: str, event: Event, org: str) -> Detection | None:
        plan = state.plan
        key = tuple(_text(event.get(_field(plan, g, rule_id))) for g in plan.group_by)
        value = _text(event.get(_field(plan, plan.value_field, rule_id))) if plan.value_field else None
        window = state.add(key, _Hit(event_seconds(event), rule_id, value, event))
        if not fires(plan, window):
            return None
        hits = list(window)
        if len(hits) > MAX_EVENTS_KEPT:
            hits = hits[:1] + hits[1 - MAX_EVENTS_KEPT :]
        events = tuple(h.event for h in hits)
        state.groups.pop(key, None)  # one detection per burst: the group starts again
        return Detection(
            producer="correlation",
            rule_id=plan.rule_id,
            rule_title=plan.title,
            severity=Severity.parse(plan.level),
            org=str(event.get("org") or org),
            timestamp=datetime.fromtimestamp(event_seconds(event), tz=UTC),
            entities={g: str(v) for g, v in zip(plan.group_by, key, strict=True) if v is not None},
            # the group-by values are what the rule tells apart: each group is its own alert (one client's
            # brute force is not another's), an absent value ("no c-ip") a group of its own
            identity={g: "" if v is None else str(v) for g, v in zip(plan.group_by, key, strict=True)},
            events=events,
            tags=plan.tags,
            description=plan.description,
        )


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
