"""From a pySigma rule to :class:`Plan` objects (one per log source variant) and from a plan to a callable.

A plan is plain, picklable data (generated source, constant specs, triggers, route, metadata): it is what
the on-disk cache stores, so a cached rule set loads without pySigma.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from mamori.detect import matchers
from mamori.detect.codegen import CodeGen
from mamori.detect.errors import RuleCompileError
from mamori.detect.prefilter import Triggers, triggers
from mamori.detect.routing import Route, route_of, variants, without_routed

Predicate = Callable[[dict[str, Any], dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Plan:
    rule_id: str
    title: str
    level: str
    tags: tuple[str, ...]
    description: str
    path: str
    variant: str
    name: str | None  # the rule's `name`, used by correlation references
    code: str
    consts: tuple[Any, ...]
    triggers: Triggers
    route: Route
    fields: tuple[str, ...]  # the rule's `fields:` list, shown by hunt
    reads: frozenset[str] | None  # event fields the predicate reads; None = all (keyword items)


def rule_meta(rule: SigmaRule, path: str) -> dict[str, Any]:
    level = rule.level.name.lower() if rule.level is not None else "medium"
    return {
        "rule_id": str(rule.id) if rule.id else (rule.title or path),
        "title": rule.title or "",
        "level": level,
        "tags": tuple(str(t) for t in rule.tags),
        "description": rule.description or "",
        "path": path,
        "name": getattr(rule, "name", None),
        "fields": tuple(rule.fields or ()),
    }


def compile_rule(rule: SigmaRule, pipelines: dict[str, ProcessingPipeline], path: str) -> list[Plan]:
    """Every variant of one rule as a plan; raises RuleRefused (with the reason) when none can run."""
    meta = rule_meta(rule, path)
    plans: list[Plan] = []
    for variant, processed in variants(rule, pipelines):
        try:
            conditions = processed.detection.parsed_condition
            if len(conditions) != 1:
                raise RuleCompileError(f"{len(conditions)} conditions; Sigma 2 rules have exactly one")
            tree = conditions[0].parsed  # re-parsed on every access: read once
        except SigmaError as exc:
            raise RuleCompileError(f"condition: {exc}") from exc
        route = route_of(tree)
        gen = CodeGen()
        code = gen.node(without_routed(tree, route))
        plans.append(
            Plan(
                variant=variant,
                code=code,
                consts=tuple(gen.consts),
                triggers=triggers(tree),
                route=route,
                reads=None if gen.anywhere else frozenset(gen.fields),
                **meta,
            )
        )
    return plans


def code_object(plan: Plan) -> CodeType:
    """The bytecode of a plan's factory (``compile`` is the slowest step of a load: the cache keeps this)."""
    names = ", ".join(f"k{i}" for i in range(len(plan.consts)))
    unpack = f"    {names}, = K\n" if plan.consts else ""
    source = f"def make(K):\n{unpack}    def rule(L, E):\n        return {plan.code}\n    return rule\n"
    return compile(source, f"<sigma {plan.rule_id}>", "exec")


def build_predicate(plan: Plan, code: CodeType | None = None) -> Predicate:
    """Materialise a plan: build its constants and run its factory (the inverse of the cache)."""
    consts = [matchers.build_const(spec) for spec in plan.consts]
    scope: dict[str, Any] = dict(matchers.HELPERS)
    exec(code or code_object(plan), scope)  # noqa: S102 - source built by codegen only
    predicate: Predicate = scope["make"](consts)
    return predicate
