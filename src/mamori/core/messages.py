"""Messages that flow between pipeline stages.

An *event* is a plain ``dict[str, Any]`` on the hot path (building objects per record costs more than the
detection itself). Its field names follow the Sigma taxonomy (``Image``, ``CommandLine``, ``c-ip``,
``cs-method`` …) plus the envelope fields below.

Every producer (Sigma rules, correlations, indicator matches, the website watch) emits the same
:class:`Detection`; deduplication, suppression, grouping and notification are written once, downstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamori.core.severity import Severity

Event = dict[str, Any]

# Envelope fields every normalised event carries (besides its Sigma-taxonomy fields).
TIMESTAMP = "@timestamp"
ORG = "org"
SENSOR = "sensor"
SOURCE = "source"  # the log source kind: "windows", "webserver", "suricata", "syslog", "json" ...
HOST = "host"
RAW = "raw"
EVENT_ID = "@id"  # stable id of the accepted event (assigned at ingest)
ENVELOPE_FIELDS = (TIMESTAMP, ORG, SENSOR, SOURCE, HOST, RAW, EVENT_ID)


@dataclass(frozen=True, slots=True)
class Detection:
    """One finding by one producer about one or more events (or one website check)."""

    producer: str  # "sigma", "correlation", "indicator", "website"
    rule_id: str
    rule_title: str
    severity: Severity
    org: str
    timestamp: datetime
    entities: Mapping[str, str] = field(default_factory=dict)  # host, user, src_ip, dst_ip, url ...
    # The entities that tell one actor (or target) of this rule from another, set by the producer, which knows
    # them: a correlation's group-by values, a Sigma hit's address/account/machine fields, a watched site.
    # Detections of one rule with the same identity are one alert while it is open; None means every entity
    # identifies (the cautious default: a producer that does not say splits alerts rather than merging actors).
    identity: Mapping[str, str] | None = None
    events: tuple[Event, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    exercise_id: str | None = None
    key: str = ""  # stable identity; derived from the content when left empty

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", detection_key(self))

    @property
    def identifying(self) -> Mapping[str, str]:
        return self.entities if self.identity is None else self.identity


def started(d: Detection) -> datetime:
    """When what the detection reports began: its earliest event (a correlation fires on the last of a burst
    whose first event may be minutes older), never later than the detection itself."""
    times = [d.timestamp]
    for event in d.events:
        stamp = event.get(TIMESTAMP)
        if isinstance(stamp, str):
            try:
                at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                continue
            if at.tzinfo is not None:
                times.append(at)
    return min(times)


def detection_key(d: Detection) -> str:
    """A stable key so that a redelivered detection is recognised and never doubles an alert."""
    ids = ",".join(str(e.get(EVENT_ID, "")) for e in d.events) or d.timestamp.isoformat()
    basis = f"{d.producer}|{d.rule_id}|{d.org}|{ids}"
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]
