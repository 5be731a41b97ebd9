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
from mamori.ingest.parsers._common import drop_caller_fields, iso_from_isoformat, received_iso
from mamori.ingest.parsers._json import flatten, iter_json
from mamori.ingest.parsers.base import ParseFailure

SOURCE_NAME = "suricata"

_RENAMES = {"dest_ip": "dst_ip", "dest_port": "dst_port"}
# Sigma names for what Suricata observed on the wire: `dns` category and `proxy` category fields.
_ALIASES = {
    "dns.rrname": "query",
    "dns.rrtype": "record_type",
    "http.hostname": "cs-host",
    "http.url": "c-uri",
    "http.http_method": "cs-method",
    "http.http_user_agent": "c-useragent",
    "http.http_refer": "cs-referer",
    "http.status": "sc-status",
    "http.protocol": "cs-version",
}


def is_eve(record: dict[str, Any]) -> bool:
    """Whether a JSON object looks like a Suricata EVE record."""
    return isinstance(record.get("event_type"), str)


def normalise(record: dict[str, Any], *, raw: str, received: str, host: str | None) -> Event:
    """One decoded EVE object as a normalised event (the record's dict is reused, not copied)."""
    event = flatten(record)
    drop_caller_fields(event)
    for eve_name, sigma_name in _RENAMES.items():
        if eve_name in event:
            event[sigma_name] = event.pop(eve_name)
    for eve_name, sigma_name in _ALIASES.items():
        value = event.get(eve_name)
        if value is not None:
            event[sigma_name] = value
    when = event.get("timestamp")
    event[TIMESTAMP] = (iso_from_isoformat(when) if isinstance(when, str) else None) or received
    sensor_host = event.get("host")  # EVE's optional sensor name
    event[HOST] = sensor_host if isinstance(sensor_host, str) else host
    event[SOURCE] = SOURCE_NAME
    event[RAW] = raw
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
            where, raw, record = item
            if not is_eve(record):
                yield ParseFailure.of("not a Suricata EVE record (no event_type)", where, raw.encode())
                continue
            yield normalise(record, raw=raw, received=now, host=host)
