"""A compiled, indexed rule set: plans → predicates, grouped into route buckets with their prefilters.

Routing keys (data from the pipelines, read back from each rule's tree by :func:`routing.route_of`):
a Windows event goes to the bucket of its (Channel, EventID), else of its Channel; any other event to the
bucket of its ``source``. Each bucket already holds the rules that constrain the channel but not the EventID,
so one dict lookup finds every rule that can apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import CodeType
from typing import Any

from mamori.detect.compiler import Plan, Predicate, build_predicate
from mamori.detect.databases import DatabaseStore
from mamori.detect.errors import RuleCompileError
from mamori.detect.matchers import KEYWORDS
from mamori.detect.prefilter import Bucket, Triggers

ChannelKey = tuple[str, int | None]
_ROUTES_REMEMBERED = 4096  # distinct (channel, EventID) pairs: a log has tens; a hostile one cannot grow memory
Entry = tuple[int, Triggers, frozenset[str] | None]


class RuleSet:
    """Immutable once built: an engine swaps whole rule sets on reload."""

    def __init__(
        self, plans: Iterable[Plan], codes: dict[int, CodeType] | None = None, store: DatabaseStore | None = None
    ) -> None:
        """``codes``: bytecode by position in ``plans`` (from the cache): loading then skips ``compile``;
        ``store``: where the prefilter's compiled Hyperscan databases are kept between processes."""
        self.plans: list[Plan] = []
        self.predicates: list[Predicate] = []
        self.broken: list[tuple[Plan, str]] = []
        for position, plan in enumerate(plans):
            try:
                predicate = build_predicate(plan, (codes or {}).get(position))
            except (RuleCompileError, SyntaxError, ValueError, RecursionError) as exc:
                self.broken.append((plan, f"{type(exc).__name__}: {exc}"))
                continue
            self.plans.append(plan)
            self.predicates.append(predicate)
        # rules that read the joined keyword text (the engine adds it to a view only when one is a candidate)
        self.keyword_rules = frozenset(i for i, p in enumerate(self.plans) if p.reads is None or KEYWORDS in p.reads)
        self._routes: dict[tuple[Any, ...], bool] = {}
        self._index(store or DatabaseStore())

    def _index(self, store: DatabaseStore) -> None:
        by_channel: dict[ChannelKey, list[Entry]] = {}
        by_source: dict[str, list[Entry]] = {}
        everywhere: list[Entry] = []
        for index, plan in enumerate(self.plans):
            entry = (index, plan.triggers, plan.reads)
            route = plan.route
            if route.channels:
                for channel in route.channels:
                    for event_id in route.event_ids or (None,):
                        by_channel.setdefault((channel.lower(), event_id), []).append(entry)
            elif route.sources:
                for source in route.sources:
                    by_source.setdefault(source.lower(), []).append(entry)
            else:
                everywhere.append(entry)
        self.channel_buckets: dict[ChannelKey, Bucket] = {}
        for (channel, event_id), entries in by_channel.items():
            extra = by_channel.get((channel, None), []) if event_id is not None else []
            self.channel_buckets[(channel, event_id)] = Bucket.build(sorted(entries + extra) + everywhere, store)
        self.source_buckets = {s: Bucket.build(e + everywhere, store) for s, e in by_source.items()}
        self.default_bucket = Bucket.build(everywhere, store)

    def routes_to_rules(self, channel: Any, event_id: Any, source: Any) -> bool:
        """Whether an event with these routing values reaches any rule (remembered: logs repeat a few routes)."""
        key = (channel, event_id, event_id.__class__, source)  # the class: 1, 1.0 and True are equal keys
        try:
            return self._routes[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value (a list): not remembered
            return not self.route_bucket(channel, event_id, source).empty
        found = not self.route_bucket(channel, event_id, source).empty
        if len(self._routes) < _ROUTES_REMEMBERED:
            self._routes[key] = found
        return found

    def bucket(self, event: dict[str, Any]) -> Bucket:
        return self.route_bucket(event.get("Channel"), event.get("EventID"), event.get("source"))

    def route_bucket(self, channel: Any, event_id: Any, source: Any) -> Bucket:
        """The bucket of an event with these routing values (as found in the event: any type)."""
        if channel.__class__ is str:
            key = channel.lower()
            if event_id.__class__ is not int:
                event_id = _int_or_none(event_id)
            found = self.channel_buckets.get((key, event_id)) or self.channel_buckets.get((key, None))
            if found is not None:
                return found
        if source.__class__ is str:
            found = self.source_buckets.get(source.lower())
            if found is not None:
                return found
        return self.default_bucket


def _int_or_none(value: Any) -> int | None:
    """The EventID a rule's ``EventID: 4624`` test accepts: an int, or its canonical digits; else None.

    Strict on purpose: predicates do not re-test routing (see ``routing.without_routed``), so "04624", " 4624",
    4624.0 or True must not reach the bucket of 4624 either.
    """
    if value.__class__ is str and value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"):
        return int(value)
    return None
