"""Syslog: RFC 5424, RFC 3164 (BSD), and the PRI-less lines syslog daemons write to files (``auth.log``).

Fields: ``facility`` and ``severity`` (RFC numbers, from PRI), ``host`` (HOSTNAME), ``program`` (the BSD
tag or the RFC 5424 APP-NAME: what Sigma's ``service: sshd`` / ``cron`` log sources mean), ``pid`` (PROCID,
as text), ``msgid``, ``structured_data`` plus one ``sd.<SD-ID>.<PARAM>`` field per parameter, and
``message``. SigmaHQ's Linux rules are keyword searches, which run over ``message``.

BSD timestamps have no year and no zone: the year is the receive year (the previous one when that would put
the record more than a day in the future, i.e. December lines read in January) and the zone is taken as UTC.
A line with a PRI but no readable header is still an event (RFC 3164 §4.3.3: the whole rest is the message);
a line without PRI must have a timestamp, and a TAG (``program:``), to be taken as syslog.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import ClassVar

from mamori.core.messages import HOST, RAW, SOURCE, TIMESTAMP, Event
from mamori.ingest.parsers._common import (
    MAX_RECORD,
    MONTHS,
    iso_from_isoformat,
    iso_z,
    iter_lines,
    location,
    raw_text,
)
from mamori.ingest.parsers.base import ParseFailure

SOURCE_NAME = "syslog"
MAX_PRI = 191  # facility 23, severity 7

_PRI = re.compile(r"<(\d{1,3})>")
_QUOTED = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SD_ELEMENT = rf'\[[^\s\]"=]++(?: [^\s\]"=]++={_QUOTED})*+ ?\]'
_RFC5424 = re.compile(
    r"(?P<version>[1-9]\d{0,2}) (?P<ts>\S++) (?P<host>\S++) (?P<app>\S++) (?P<procid>\S++) (?P<msgid>\S++) "
    rf"(?P<sd>-|(?:{_SD_ELEMENT})++)(?: (?P<msg>.*+))?",
    re.DOTALL,
)
_SD_PARAMS = re.compile(rf'(?:\[(?P<id>[^\s\]"=]++)| (?P<name>[^\s\]"=]++)=(?P<value>{_QUOTED}))')
_SD_UNESCAPE = re.compile(r'\\(["\\\]])')
_BSD = re.compile(
    r"(?:(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<day>\d{1,2})(?: (?P<year>\d{4}))?"
    r" (?P<hms>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d{1,6})\d*+)?"
    r"|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?))"
    r" ++(?P<rest>.*+)",
    re.DOTALL,
)
# Host names, IPv4 and IPv6 addresses; anything else after a BSD timestamp is not a HOSTNAME.
_HOSTNAME = re.compile(r"[\w.:%@/-]{1,255}")
# A BSD TAG as rsyslog/grok read it: printable, no brackets, optional [pid], then a colon.
_TAG = re.compile(r"(?P<program>[\x21-\x5a\x5c\x5e-\x7e]{1,128}?)(?:\[(?P<pid>[^\]\s]{1,32})\])?:")


@lru_cache(maxsize=8192)
def bsd_time(mon: str, day: str, year: str | None, hms: str, frac: str | None, received: date) -> str | None:
    """A BSD timestamp as ISO UTC; without a year, the one that does not put it in the future.

    ``received`` is a date (not a datetime) so that the cache keeps hitting across batches.
    """
    hh, mm, ss = hms.split(":")
    micro = int(frac.ljust(6, "0")) if frac else 0
    try:
        stamp = datetime(int(year) if year else received.year, MONTHS[mon], int(day), int(hh), int(mm), int(ss), micro)
        if not year and stamp.date() > received + timedelta(days=1):
            stamp = stamp.replace(year=stamp.year - 1)
    except ValueError:  # 31 Feb, 25:00, 29 Feb in the previous year
        return None
    return iso_z(stamp)


def _pri_fields(event: Event, pri: int) -> None:
    event["facility"] = pri >> 3
    event["severity"] = pri & 7


def _structured(event: Event, sd: str) -> None:
    event["structured_data"] = sd
    sd_id = ""
    for m in _SD_PARAMS.finditer(sd):
        if m.group("id") is not None:
            sd_id = m.group("id")
        else:
            event[f"sd.{sd_id}.{m.group('name')}"] = _SD_UNESCAPE.sub(r"\1", m.group("value")[1:-1])


def _rfc5424(event: Event, m: re.Match[str], received_iso: str, host: str | None) -> None:
    ts, hostname, app, procid, msgid, sd = m.group("ts", "host", "app", "procid", "msgid", "sd")
    event[TIMESTAMP] = (iso_from_isoformat(ts) if ts != "-" else None) or received_iso
    event[HOST] = hostname if hostname != "-" else host
    if app != "-":
        event["program"] = app
    if procid != "-":
        event["pid"] = procid
    if msgid != "-":
        event["msgid"] = msgid
    if sd != "-":
        _structured(event, sd)
    event["message"] = (m.group("msg") or "").removeprefix("\ufeff")


def _tag(event: Event, text: str) -> str:
    """Take a leading ``program[pid]:`` off ``text``; return what is left (the message)."""
    token, _, after = text.partition(" ")
    m = _TAG.fullmatch(token)
    if m is None:
        return text
    event["program"] = m.group("program")
    if m.group("pid") is not None:
        event["pid"] = m.group("pid")
    return after


def _bsd(event: Event, m: re.Match[str], received: datetime, host: str | None) -> bool:
    iso = m.group("iso")
    if iso is not None:
        stamp = iso_from_isoformat(iso)
    else:
        stamp = bsd_time(*m.group("mon", "day", "year", "hms", "frac"), received.date())
    event[TIMESTAMP] = stamp or iso_z(received)
    rest = m.group("rest")
    message = _tag(event, rest)
    if message is rest:  # no tag right after the timestamp: the first word is the HOSTNAME
        hostname, _, after = rest.partition(" ")
        if _HOSTNAME.fullmatch(hostname) is None:
            return False
        event[HOST] = hostname
        message = _tag(event, after)
    else:
        event[HOST] = host
    event["message"] = message
    return True


def parse_message(text: str, *, received: datetime, host: str | None) -> Event | None:
    """One syslog message (already decoded) as event fields without ``raw``; None when it is not syslog."""
    event: Event = {SOURCE: SOURCE_NAME}
    pri = _PRI.match(text)
    has_pri = pri is not None and int(pri.group(1)) <= MAX_PRI
    body = text
    if pri is not None and has_pri:
        _pri_fields(event, int(pri.group(1)))
        body = text[pri.end() :]
        m = _RFC5424.fullmatch(body)
        if m is not None:
            _rfc5424(event, m, iso_z(received), host)
            return event
    m = _BSD.fullmatch(body)
    # Without PRI, only a TAG tells a syslog file line from an application log that merely starts with a
    # timestamp (MySQL, OpenVPN, Home Assistant …), which would otherwise get its first word as host.
    if m is not None and _bsd(event, m, received, host) and (has_pri or "program" in event):
        return event
    if not has_pri:
        return None
    # RFC 3164 §4.3.3: a PRI without a readable header; the rest is the message, time and host are ours.
    event.pop("program", None)
    event.pop("pid", None)
    event[TIMESTAMP] = iso_z(received)
    event[HOST] = host
    event["message"] = body
    return event


def utc_naive(received: datetime | None) -> datetime:
    """The receive time (now when absent) as a naive UTC datetime, the form the parse functions take."""
    now = received if received is not None else datetime.now(UTC)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo is not None else now


def parse_frame(frame: bytes, *, where: str, received: datetime, host: str | None) -> Event | ParseFailure:
    """One syslog message as received on the network (it may span lines), or why it is not one.

    ``received`` is naive UTC (see :func:`utc_naive`).
    """
    if len(frame) > MAX_RECORD:
        return ParseFailure.of(f"record longer than {MAX_RECORD} bytes", where, frame)
    text = frame.decode("utf-8", "replace").rstrip("\r\n\x00")
    event = parse_message(text, received=received, host=host)
    if event is None:
        return ParseFailure.of("not a syslog message", where, frame)
    event[RAW] = raw_text(frame)
    return event


class SyslogParser:
    """Syslog lines (RFC 5424, RFC 3164, or as written to files), one message per line."""

    name: ClassVar[str] = "syslog"

    def parse(
        self,
        data: bytes,
        *,
        origin: str,
        received: datetime | None = None,
        host: str | None = None,
    ) -> Iterator[Event | ParseFailure]:
        now = utc_naive(received)
        for item in iter_lines(data, origin):
            if isinstance(item, ParseFailure):
                yield item
            else:
                number, line = item
                event = parse_message(line.decode("utf-8", "replace"), received=now, host=host)
                if event is None:
                    yield ParseFailure.of("not a syslog line", location(origin, number), line)
                else:
                    event[RAW] = raw_text(line)
                    yield event
