"""Log source routing: our pySigma YAML pipelines map a rule's ``logsource`` to event conditions.

Each pipeline file in ``content/pipelines`` is one *variant* (Sysmon, Security 4688, service channels, web …).
A rule runs once per variant whose ``route_*`` item applied to it; the conditions those items add
(``Channel``, ``EventID``, ``source``) become part of the compiled rule, and :func:`route_of` reads them back
from the condition tree to index the rule (so routing is exact by construction: the rule re-checks them).
A rule no variant routes is refused with a reason, never run unconstrained.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionOR
from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule
from sigma.types import SigmaNumber, SigmaString

from mamori.detect.errors import RuleRefused, UnmappedLogsource

CONTENT = Path(__file__).resolve().parent / "content"
PIPELINES = CONTENT / "pipelines"
ROUTE_PREFIX = "route_"
ROUTE_FIELDS = ("Channel", "EventID", "source")


@dataclass(frozen=True, slots=True)
class Route:
    """The event values a rule can only match; None means unconstrained."""

    channels: frozenset[str] | None = None
    event_ids: frozenset[int] | None = None
    sources: frozenset[str] | None = None


def load_pipelines(directory: Path = PIPELINES) -> dict[str, ProcessingPipeline]:
    """Variant name (file stem) → pipeline; parsed once per folder content (pipelines reset on apply)."""
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.yml")))
    return _load_pipelines(directory, stamp)


@functools.lru_cache(maxsize=8)
def _load_pipelines(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> dict[str, ProcessingPipeline]:
    """Variant name (file stem) → pipeline, in a stable order.

    Files named ``common*.yml`` are not variants: they run first in every variant (placeholder values,
    field mappings shared by all sources).
    """
    common = ProcessingPipeline()
    variants: dict[str, ProcessingPipeline] = {}
    for path in sorted(directory.glob("*.yml")):
        pipeline = ProcessingPipeline.from_yaml(path.read_text(encoding="utf-8"))
        if path.stem.startswith("common"):
            common = common + pipeline
        else:
            variants[path.stem] = pipeline
    return {name: common + pipeline for name, pipeline in variants.items()}


def variants(rule: SigmaRule, pipelines: dict[str, ProcessingPipeline]) -> list[tuple[str, SigmaRule]]:
    """Every (variant, processed copy) that routes the rule; refuses a rule no variant can route."""
    out: list[tuple[str, SigmaRule]] = []
    failures: list[str] = []
    for name, pipeline in pipelines.items():
        if not _may_route(pipeline, rule):
            continue  # deep-copying and processing a rule costs milliseconds: skip variants that cannot apply
        processed = copy.deepcopy(rule)
        try:
            pipeline.apply(processed)
        except SigmaError as exc:
            failures.append(f"{name}: {exc}")
            continue
        if any(i.startswith(ROUTE_PREFIX) for i in processed.applied_processing_items if i):
            out.append((name, processed))
    if out:
        return out
    if failures:
        raise RuleRefused("no usable log source variant: " + "; ".join(failures))
    ls = rule.logsource
    raise UnmappedLogsource(
        f"log source product={ls.product} category={ls.category} service={ls.service} is not mapped by any pipeline"
    )


def _may_route(pipeline: ProcessingPipeline, rule: SigmaRule) -> bool:
    """Whether any route item of the pipeline matches the rule (checked again, exactly, by applying it)."""
    try:
        return any(
            item.identifier and item.identifier.startswith(ROUTE_PREFIX) and item.match_rule_conditions(rule)
            for item in pipeline.items
        )
    except SigmaError:
        return True  # let apply() report it


def route_of(tree: Any) -> Route:
    """Read the Channel/EventID/source constraints that every match of ``tree`` must satisfy."""
    channels = _values(tree, "Channel")
    event_ids = _values(tree, "EventID")
    sources = _values(tree, "source")
    ids: frozenset[int] | None = None
    if event_ids is not None:
        try:
            ids = frozenset(int(v) for v in event_ids)
        except ValueError:
            ids = None  # a non-numeric EventID value: do not index on it (the rule still checks it)
    return Route(channels=channels, event_ids=ids, sources=sources)


def _values(node: Any, field: str) -> frozenset[str] | None:
    """Exact values ``field`` must have for ``node`` to be true, or None when not constrained that way."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if node.field != field:
            return None
        value = node.value
        if isinstance(value, SigmaNumber):
            return frozenset({str(value.number)})
        if isinstance(value, SigmaString) and not value.contains_special():
            return frozenset({"".join(p for p in value.s if isinstance(p, str)).lower()})
        return None
    if isinstance(node, ConditionAND):
        found = [v for v in (_values(a, field) for a in node.args) if v is not None]
        if not found:
            return None
        return frozenset.intersection(*found)
    if isinstance(node, ConditionOR):
        parts = [_values(a, field) for a in node.args]
        if any(p is None for p in parts):
            return None
        return frozenset().union(*(p for p in parts if p is not None))
    return None


def without_routed(tree: Any, route: Route) -> Any:
    """``tree`` minus the AND-ed route tests the bucket of ``route`` already guarantees.

    Rules are indexed by channel (then EventID) or else by source, and an event reaches a rule only through
    the bucket of its exact lower-cased Channel, canonical EventID or source (see ``RuleSet.route_bucket``):
    re-testing them in every candidate's predicate is pure cost. Only tests on the fields the rule is really
    indexed by are dropped; everything else stays.
    """
    guaranteed: set[str] = set()
    if route.channels:
        guaranteed.add("Channel")
        written = _values(tree, "EventID") or frozenset()
        if route.event_ids and all(v.isdigit() and str(int(v)) == v for v in written):
            guaranteed.add("EventID")  # only canonical numbers: "04624" in a rule must keep its own test
    elif route.sources:
        guaranteed.add("source")
    if not guaranteed or not isinstance(tree, ConditionAND):
        return tree
    kept = [c for c in _conjuncts(tree) if _tested_field(c) not in guaranteed]
    if not kept:
        return tree  # nothing but routing: keep one test so the predicate stays an expression
    return kept[0] if len(kept) == 1 else ConditionAND(kept)


def _conjuncts(node: Any) -> list[Any]:
    if isinstance(node, ConditionAND):
        return [c for a in node.args for c in _conjuncts(a)]
    return [node]


def _tested_field(node: Any) -> str | None:
    """The one field a node tests for equality with plain values (an OR of such leaves), else None."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return node.field if _values(node, node.field) is not None else None
    if isinstance(node, ConditionOR):
        fields = {_tested_field(a) for a in node.args}
        return fields.pop() if len(fields) == 1 else None
    return None
