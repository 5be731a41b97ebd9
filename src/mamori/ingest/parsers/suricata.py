"""Suricata EVE JSON (alert, http, dns, tls, flow, fileinfo, anomaly, …).

The EVE record is flattened with dotted keys (``alert.signature``, ``http.hostname``), the 5-tuple takes
Sigma's names (``src_ip``, ``src_port``, ``dst_ip``, ``dst_port``, ``proto``), and the few fields Sigma's
``dns`` and ``proxy`` categories match on get their Sigma name as well (see ``docs/event-fields.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from mamori.core.messages import HOST, RAW, SOURCE, TIMESTAMP, Event
from mamori.ingest.parsers._common import (
    drop_caller_fields,
    iso_from_isoformat,
    location,
    raw_text,
    received_iso,
)
from mamori.ingest.parsers._json import flatten, iter_json
from mamori.ingest.parsers.base import ParseFailure

SOURCE_NAME = "suricata"

_RENAMES = {"dest_ip": "dst_ip", "dest_port": "dst_port"}
# Sigma names for what Suricata observed on the wire: `dns` category and `proxy` category fields, looked up
# in the nested object before flattening (two lookups per record instead of nine).
_ALIASES = {
    "dns": {"rrname": "query", "rrtype": "record_type"},
    "http": {
        "hostname": "cs-host",
        "url": "c-uri",
        "http_method": "cs-method",
        "http_user_agent": "c-useragent",
        "http_refer": "cs-referer",
        "status": "sc-status",
        "protocol": "cs-version",
    },
}


def is_eve(record: dict[str, Any]) -> bool:
    """Whether a JSON object looks like a Suricata EVE record."""
    return isinstance(record.get("event_type"), str)


def _aliases(record: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for section, names in _ALIASES.items():
        inner = record.get(section)
        if type(inner) is dict:
            found.update((sigma, inner[eve]) for eve, sigma in names.items() if inner.get(eve) is not None)
    return found


def normalise(record: dict[str, Any], *, raw: bytes, received: str, host: str | None) -> Event:
    """One decoded EVE object as a normalised event (the record's dict is reused, not copied)."""
    aliases = _aliases(record)
    event = flatten(record)
    event.update(aliases)
    drop_caller_fields(event)
    for eve_name, sigma_name in _RENAMES.items():
        if eve_name in event:
            event[sigma_name] = event.pop(eve_name)
    when = event.get("timestamp")
    event[TIMESTAMP] = (iso_from_isoformat(when) if isinstance(when, str) else None) or received
    sensor_host = event.get("host")  # EVE's optional sensor name
    event[HOST] = sensor_host if isinstance(sensor_host, str) else host
    event[SOURCE] = SOURCE_NAME
    event[RAW] = raw_text(raw)
    return event


class SuricataParser:
    """Suricata EVE JSON: NDJSON as written by Suricata, or a JSON array of EVE records."""

    name: ClassVar[str] = "suricata"

    def parse(
        self,
        data: bytes,
        *,
        origin: str,
        received: datetime | None = None,
        host: str | None = None,
    ) -> Iterator[Event | ParseFailure]:
        now = received_iso(received)
        for item in iter_json(data, origin):
            if isinstance(item, ParseFailure):
                yield item
                continue
            locator, raw, record = item
            if not is_eve(record):
                yield ParseFailure.of("not a Suricata EVE record (no event_type)", location(origin, locator), raw)
                continue
            yield normalise(record, raw=raw, received=now, host=host)
