"""Apache / Nginx access logs: common, combined and vhost_combined formats.

Field names follow Sigma's ``webserver`` category (see ``docs/event-fields.md``). The request target is
kept percent-encoded exactly as logged, because the SigmaHQ web rules are written against the logged form
(they list ``%27``-encoded and double-encoded ``%252f`` patterns that decoding would destroy). Only the log
writer's own escaping (Apache ``\\"``, nginx ``\\x22``) is undone, so the value is the same whichever
server wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import ClassVar

from mamori.core.messages import HOST, RAW, SOURCE, TIMESTAMP, Event
from mamori.ingest.parsers._common import MONTHS, iso_z, iter_lines, location, offset, raw_text, received_iso
from mamori.ingest.parsers.base import MAX_RAW, ParseFailure

SOURCE_NAME = "webserver"

# Two spellings of one format. Quoted fields in _ESCAPED use the unrolled [^"\\]*(\\.[^"\\]*)* form; _PLAIN
# is the same pattern for lines without any backslash (nearly all of them), where it is 3x faster. Both use
# possessive quantifiers: linear time on any input, no catastrophic backtracking on hostile lines.
_PREFIX = (
    r"(?:(?P<vhost>[^\s:\"]++):(?P<port>\d{1,5}+) )?"  # vhost_combined prefix "%v:%p "
    r"(?P<ip>\S++) \S++ (?P<user>\S++) "
    r"\[(?P<time>[^\]]{1,64}+)\] "
)


def _format(quoted: str) -> re.Pattern[str]:
    return re.compile(
        _PREFIX + rf'"(?P<request>{quoted})" (?P<status>\d{{3}}|-) (?P<bytes>\d++|-)'
        rf'(?: "(?P<referer>{quoted})" "(?P<agent>{quoted})")?'
    )


_PLAIN = _format(r'[^"]*+')
_ESCAPED = _format(r'[^"\\]*+(?:\\.[^"\\]*+)*+')
# Hours, minutes and seconds are range-checked here so that the UTC fast path needs no datetime.
_TIME = re.compile(r"(\d\d)/([A-Z][a-z]{2})/(\d{4}):([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.\d+)? ([+-])(\d\d)(\d\d)")
# Escapes written by Apache (ap_escape_logitem) and nginx (ngx_escape_html / \xHH); nothing else is undone.
_ESCAPE = re.compile(rb'\\(?:x([0-9a-fA-F]{2})|(["\\nrtbv]))')
_SIMPLE_ESCAPES = {b'"': b'"', b"\\": b"\\", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"v": b"\v"}


@lru_cache(maxsize=8192)
def access_time(text: str) -> str | None:
    """``17/May/2015:10:05:03 +0200`` as ISO UTC, or None when it is not a valid time."""
    m = _TIME.fullmatch(text)
    if m is None:
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
    date_part = _utc_date(day, mon, year)
    if date_part is None:
        return None
    if oh == "00" and om == "00":  # UTC already (the common case): no datetime arithmetic at all
        return f"{date_part}T{hh}:{mm}:{ss}.000000Z"
    try:
        local = datetime(int(year), MONTHS[mon], int(day), int(hh), int(mm), int(ss))
        return iso_z(local - offset(sign, oh, om))
    except (ValueError, OverflowError):
        return None


@lru_cache(maxsize=1024)
def _utc_date(day: str, mon: str, year: str) -> str | None:
    """``YYYY-MM-DD`` for a valid calendar date, else None (31/Feb, unknown month)."""
    month = MONTHS.get(mon)
    try:
        return date(int(year), month, int(day)).isoformat() if month else None
    except ValueError:
        return None


def _unescape_match(m: re.Match[bytes]) -> bytes:
    if m.group(1) is not None:
        return bytes((int(m.group(1), 16),))
    return _SIMPLE_ESCAPES[m.group(2)]


def unescape(text: str) -> str:
    """Undo the log writer's escaping; bytes from ``\\xHH`` sequences are decoded as UTF-8."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(_unescape_match, text.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")


def _request_fields(event: Event, request: str) -> None:
    """Method, target and protocol version from the request line, when it looks like one."""
    parts = request.split(" ")
    if len(parts) > 3 and parts[-1].startswith("HTTP/"):
        # Some servers log a target with raw spaces; keep them inside the target.
        parts = [parts[0], " ".join(parts[1:-1]), parts[-1]]
    method = parts[0]
    if len(parts) not in (2, 3) or not parts[1] or not (method and method.isascii() and method.isprintable()):
        return  # TLS handshakes, binary probes: only `raw` keeps them
    event["cs-method"] = method
    target = parts[1]
    # Sigma webserver rules use cs-uri-query for the whole target (path and query: `endswith: '/vpns/cfg/
    # smb.conf'`), cs-uri-stem for the path alone; c-uri / c-uri-query are the proxy-category names.
    event["cs-uri-query"] = target
    event["c-uri"] = target
    stem, sep, query = target.partition("?")
    event["cs-uri-stem"] = stem
    if sep:
        event["c-uri-query"] = query
    if len(parts) == 3:
        event["cs-version"] = parts[2]


def parse_line(line: bytes, *, received: str, host: str | None) -> Event | None:
    """One access-log line as an event, or None when it is not one."""
    text = raw = line.decode("utf-8", "replace")
    if len(line) > MAX_RAW:
        raw = raw_text(line)
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        text = text[1:-1]  # some collectors (e.g. the ocatak data set) wrap each whole line in quotes
    escaped = "\\" in text
    m = (_ESCAPED if escaped else _PLAIN).match(text)
    if m is None:
        return None
    vhost, _port, ip, user, when, request, status, size, referer, agent = m.groups()
    event: Event = {
        TIMESTAMP: access_time(when) or received,
        SOURCE: SOURCE_NAME,
        HOST: vhost or host,
        RAW: raw,
        "c-ip": ip,
    }
    _request_fields(event, unescape(request) if escaped else request)
    if status != "-":
        event["sc-status"] = int(status)
    if size != "-" and len(size) <= 18:  # an int64; a longer "size" is not one (and int() of 5,000 digits raises)
        event["sc-bytes"] = int(size)
    # "-" and "" mean "not sent": the field stays out, so that Sigma's `cs-referer: null` matches.
    if referer and referer != "-":
        event["cs-referer"] = unescape(referer) if escaped else referer
    if agent and agent != "-":
        event["cs-user-agent"] = unescape(agent) if escaped else agent
    if user != "-":
        event["cs-username"] = unescape(user) if escaped else user
    if vhost:
        event["cs-host"] = vhost
    return event


class WebAccessParser:
    """Apache/Nginx common, combined and vhost_combined access logs, one record per line."""

    name: ClassVar[str] = "webaccess"

    def parse(
        self,
        data: bytes,
        *,
        origin: str,
        received: datetime | None = None,
        host: str | None = None,
    ) -> Iterator[Event | ParseFailure]:
        now = received_iso(received)
        for item in iter_lines(data, origin):
            if isinstance(item, ParseFailure):
                yield item
                continue
            number, line = item
            event = parse_line(line, received=now, host=host)
            yield (
                event
                if event is not None
                else ParseFailure.of("not an access log line", location(origin, number), line)
            )
