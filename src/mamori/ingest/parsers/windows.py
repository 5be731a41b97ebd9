"""Windows event parsers: EVTX files, the evtx-crate JSON layout, Winlogbeat and NXLog JSON.

Every parser produces the same *flat* event (see ``docs/event-fields.md``):

- System fields: ``EventID`` (int), ``Channel``, ``Provider_Name``, ``Computer``, ``EventRecordID`` (int),
  plus ``Level``, ``Task``, ``Opcode``, ``Keywords``, ``Version`` when present.
- EventData / UserData fields by their ``Name``. Decisions (documented in docs/event-fields.md):
  * names with spaces lose them (Defender's ``Threat Name`` becomes ``ThreatName``), the convention most
    SigmaHQ rules follow;
  * unnamed ``<Data>`` items are joined with a newline into one ``Data`` string: SigmaHQ treats ``Data`` as
    "the container of the event data as a whole" (``Data|contains|all`` spans several items);
  * booleans become the strings ``"true"``/``"false"`` as the XML renders them (``Initiated: 'true'``);
  * null values are dropped (a Sigma ``field: null`` matches an absent field).
- Envelope: ``@timestamp`` from ``TimeCreated`` (ISO 8601 UTC with ``Z``), ``source="windows"``,
  ``host=Computer``, ``raw`` (the JSON record, truncated).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from operator import attrgetter
from typing import Any, ClassVar, cast

import evtx
import msgspec
import orjson

from mamori.core.messages import Event
from mamori.ingest.parsers.base import MAX_RAW, ParseFailure

SOURCE = "windows"
_CHUNK = 512
_SYSTEM_SCALARS = (
    "EventID",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "EventRecordID",
    "Channel",
    "Computer",
)


def _scalar(value: Any) -> Any:
    """Render one field value the way the XML shows it (bools as text, nested text nodes unwrapped)."""
    if isinstance(value, dict):
        value = value.get("#text")
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return "\n".join(str(_scalar(v)) for v in value if v is not None)
    return value


def _put_fields(out: Event, data: Any) -> None:
    """Copy EventData/UserData fields into ``out`` by name (recursing through UserData wrappers)."""
    if not isinstance(data, dict):
        if data is not None:
            out.setdefault("Data", _scalar(data))
        return
    for name, value in data.items():
        cls = value.__class__
        if cls is str or cls is int:  # the common case, kept cheap: this runs ~30 times per record
            out[name.replace(" ", "") if " " in name else name] = value
            continue
        if name == "#attributes" or value is None:
            continue
        if name == "#text":
            name = "Data"
        if cls is dict and "#text" not in value:
            _put_fields(out, value)  # UserData: <EventXML><Field>…, or nested structures
            continue
        value = _scalar(value)
        if value is not None:
            out[name.replace(" ", "")] = value


def _timestamp(system: dict[str, Any]) -> str | None:
    created = system.get("TimeCreated")
    if isinstance(created, dict):
        attrs = created.get("#attributes")
        if isinstance(attrs, dict):
            return _stamp(attrs.get("SystemTime"))
    return None


def _stamp(system_time: Any) -> str | None:
    if isinstance(system_time, str):
        return system_time if system_time.endswith("Z") else system_time + "Z"
    return None


def flatten_evtx_json(doc: dict[str, Any], raw: bytes | str = b"") -> Event:
    """Flatten one evtx-crate JSON record (``{"Event": {"System": …, "EventData": …}}``)."""
    root = doc.get("Event", doc)
    if not isinstance(root, dict) or not isinstance(root.get("System"), dict):
        raise ValueError("not a Windows event: no Event.System")
    system: dict[str, Any] = root["System"]
    provider = system.get("Provider")
    attrs = (provider.get("#attributes") or {}) if isinstance(provider, dict) else {}
    return _assemble(
        tuple(map(system.get, _SYSTEM_SCALARS)),
        (attrs.get("Name"), attrs.get("Guid")),
        (root.get("EventData"), root.get("UserData")),
        _timestamp(system),
        raw,
    )


def _assemble(
    scalars: Sequence[Any], provider: tuple[Any, Any], data: tuple[Any, Any], stamp: str | None, raw: bytes | str
) -> Event:
    """The flat event from what a record's System holds (in ``_SYSTEM_SCALARS`` order) and its EventData/UserData."""
    out: Event = {}
    for name, value in zip(_SYSTEM_SCALARS, scalars, strict=True):
        if value is not None:
            out[name] = value if value.__class__ is str or value.__class__ is int else _scalar(value)
    name, guid = provider
    if name is not None:
        out["Provider_Name"] = name
    if guid is not None:
        out["Provider_Guid"] = guid
    _put_fields(out, data[0])
    _put_fields(out, data[1])
    return _envelope(out, stamp, raw)


# The evtx crate's JSON record, typed: msgspec decodes these fields straight into slots and skips the rest
# (Correlation, Execution, Security …) without building them — faster than a dict of everything (orjson) and
# most of the work of flattening done. A record of any other shape fails validation and takes the generic path
# (orjson + flatten_evtx_json), which gives the same event for every record this shape accepts
# (tests/ingest/test_windows_parsers.py compares the two).
class _Attributes(msgspec.Struct, gc=False):
    Name: Any = None
    Guid: Any = None
    SystemTime: Any = None


class _Node(msgspec.Struct, gc=False):
    attributes: _Attributes | None = msgspec.field(default=None, name="#attributes")


class _System(msgspec.Struct, gc=False):
    Provider: _Node | None = None
    EventID: Any = None
    Version: Any = None
    Level: Any = None
    Task: Any = None
    Opcode: Any = None
    Keywords: Any = None
    EventRecordID: Any = None
    Channel: Any = None
    Computer: Any = None
    TimeCreated: _Node | None = None


class _Event(msgspec.Struct, gc=False):
    System: _System
    EventData: Any = None
    UserData: Any = None


class _Record(msgspec.Struct, gc=False):
    Event: _Event


class _RouteSystem(msgspec.Struct, gc=False):
    EventID: Any = None
    Channel: Any = None


class _RouteEvent(msgspec.Struct, gc=False):
    System: _RouteSystem


class _RouteRecord(msgspec.Struct, gc=False):
    Event: _RouteEvent


_decode_record = msgspec.json.Decoder(_Record).decode
_decode_route = msgspec.json.Decoder(_RouteRecord).decode
_system_scalars = attrgetter(*_SYSTEM_SCALARS)


def _flatten_record(record: _Record, raw: str) -> Event:
    """:func:`flatten_evtx_json` of a typed record."""
    event, system = record.Event, record.Event.System
    provider = system.Provider.attributes if system.Provider is not None else None
    created = system.TimeCreated.attributes if system.TimeCreated is not None else None
    return _assemble(
        _system_scalars(system),
        (provider.Name, provider.Guid) if provider is not None else (None, None),
        (event.EventData, event.UserData),
        _stamp(created.SystemTime) if created is not None else None,
        raw,
    )


def _envelope(out: Event, stamp: str | None, raw: bytes | str) -> Event:
    event_id = out.get("EventID")
    if isinstance(event_id, str) and event_id.isdigit():
        out["EventID"] = int(event_id)
    record_id = out.get("EventRecordID")
    if isinstance(record_id, str) and record_id.isdigit():
        out["EventRecordID"] = int(record_id)
    if stamp:
        out["@timestamp"] = stamp
    out["source"] = SOURCE
    if "Computer" in out:
        out["host"] = out["Computer"]
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    out["raw"] = text[:MAX_RAW]
    return out


_WINLOGBEAT_SYSTEM = {
    "event_id": "EventID",
    "channel": "Channel",
    "provider_name": "Provider_Name",
    "computer_name": "Computer",
    "record_id": "EventRecordID",
    "task": "Task",
    "opcode": "Opcode",
    "version": "Version",
}


def flatten_winlogbeat(doc: dict[str, Any], raw: bytes | str = b"") -> Event:
    """Flatten a Winlogbeat/Elastic-agent document (``winlog.event_data``, ``winlog.channel`` …)."""
    winlog = doc["winlog"]
    if not isinstance(winlog, dict):
        raise ValueError("winlog is not an object")
    out: Event = {}
    for key, name in _WINLOGBEAT_SYSTEM.items():
        value = _scalar(winlog.get(key))
        if value is not None:
            out[name] = value
    _put_fields(out, winlog.get("event_data"))
    _put_fields(out, winlog.get("user_data"))
    stamp = doc.get("@timestamp")
    return _envelope(out, _iso_z(stamp), raw)


_NXLOG_SYSTEM = {"Hostname": "Computer", "SourceName": "Provider_Name", "RecordNumber": "EventRecordID"}
_NXLOG_DROP = frozenset(
    {
        "EventTime",
        "EventReceivedTime",
        "EventTimeWritten",
        "SourceModuleName",
        "SourceModuleType",
        "Message",
        "Severity",
        "SeverityValue",
        "EventType",
    }
)


def flatten_flat(doc: dict[str, Any], raw: bytes | str = b"") -> Event:
    """Flatten an NXLog-style or already-flat record (``EventID``, ``Channel`` and data at top level)."""
    out: Event = {}
    for name, value in doc.items():
        if name in _NXLOG_DROP or name.startswith("@"):
            continue
        name = _NXLOG_SYSTEM.get(name, name)
        value = _scalar(value)
        if value is not None and not isinstance(value, dict):
            out[name.replace(" ", "")] = value
    stamp = doc.get("@timestamp") or doc.get("EventTime") or doc.get("TimeCreated")
    return _envelope(out, _iso_z(stamp), raw)


def _iso_z(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    stamp: str = value.replace(" ", "T", 1)
    if stamp.endswith("+00:00"):
        stamp = stamp[:-6]
    return stamp if stamp.endswith("Z") else stamp + "Z"


def _kept(doc: Any, keep: KeepRecord, routes: Routes) -> bool:
    """Ask ``keep`` about the record's Channel and EventID, read as flattening would; odd shapes are kept."""
    root = doc.get("Event", doc) if doc.__class__ is dict else None
    system = root.get("System") if root.__class__ is dict else None
    if system.__class__ is not dict:
        return True  # flattening reports it
    return _kept_route(system.get("Channel"), system.get("EventID"), keep, routes)


Routes = dict[tuple[str, int], bool]  # keep's answer per (Channel, EventID) met in one file
_ROUTES_REMEMBERED = 1024  # a log holds tens of pairs; a hostile one cannot grow memory


def _kept_route(channel: Any, event_id: Any, keep: KeepRecord, routes: Routes) -> bool:
    if channel.__class__ is str and event_id.__class__ is int:  # exact types: True or 4624.0 never share a key
        key = (channel, event_id)
        found = routes.get(key)
        if found is None:
            found = keep(channel, event_id)
            if len(routes) < _ROUTES_REMEMBERED:
                routes[key] = found
        return found
    return keep(
        channel if channel.__class__ is str else _scalar(channel),
        event_id if event_id.__class__ is int else _scalar(event_id),
    )


def is_windows_record(doc: dict[str, Any]) -> bool:
    """An evtx-crate/XML-as-JSON document or a Winlogbeat record (flat NXLog records need the explicit format)."""
    event = doc.get("Event")
    return (isinstance(event, dict) and "System" in event) or isinstance(doc.get("winlog"), dict)


def flatten_windows_json(doc: Any, raw: bytes | str = b"") -> Event:
    """Recognise the JSON layout of one Windows record and flatten it; raises ValueError if it is none."""
    if not isinstance(doc, dict):
        raise ValueError("record is not a JSON object")
    if "Event" in doc or "System" in doc:
        return flatten_evtx_json(doc, raw)
    if isinstance(doc.get("winlog"), dict):
        return flatten_winlogbeat(doc, raw)
    if "EventID" in doc or "Channel" in doc:
        return flatten_flat(doc, raw)
    raise ValueError("no Windows event layout recognised (Event.System, winlog, or EventID/Channel)")


def iter_json_documents(data: bytes) -> Iterator[tuple[Any, bytes] | ParseFailure]:
    """Split JSON lines, a JSON array, or concatenated (pretty-printed) JSON objects into documents."""
    text = data.lstrip()
    if text.startswith(b"["):
        try:
            docs = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield ParseFailure.of(f"bad JSON array: {exc}", "0", text)
            return
        for doc in docs if isinstance(docs, list) else [docs]:
            yield doc, orjson.dumps(doc)
        return
    yield from _iter_concatenated(data)


def _is_object_line(line: bytes) -> bool:
    stripped = line.strip()
    return not stripped or (stripped.startswith(b"{") and stripped.endswith(b"}"))


def _iter_concatenated(data: bytes) -> Iterator[tuple[Any, bytes] | ParseFailure]:
    """JSON lines fast path; falls back to a streaming decoder for multi-line objects."""
    import json  # the stdlib raw_decode is needed only for pretty-printed concatenated objects

    lines = data.splitlines()
    if all(_is_object_line(line) for line in lines):
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield orjson.loads(line), line
                except orjson.JSONDecodeError as exc:
                    yield ParseFailure.of(f"bad JSON: {exc}", f"line {number}", line)
        return
    text = data.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        try:
            doc, stop = decoder.raw_decode(text, pos)
        except ValueError as exc:
            nxt = text.find("\n{", pos + 1)
            yield ParseFailure.of(f"bad JSON: {exc}", f"offset {pos}", text[pos : nxt if nxt > 0 else end].encode())
            if nxt < 0:
                break
            pos = nxt + 1
            continue
        yield doc, text[pos:stop].encode()
        pos = stop


class WindowsJsonParser:
    """Windows events as JSON (evtx-crate, Winlogbeat, NXLog/flat): lines, arrays or concatenated."""

    name: ClassVar[str] = "windows-json"

    def parse(self, data: bytes, *, origin: str) -> Iterator[Event | ParseFailure]:
        for item in iter_json_documents(data):
            if isinstance(item, ParseFailure):
                yield ParseFailure.of(item.reason, f"{origin}:{item.where}", item.raw)
                continue
            doc, raw = item
            try:
                yield flatten_windows_json(doc, raw)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                yield ParseFailure.of(str(exc), f"{origin}:record", raw)


class Unrouted:
    """A record that the reader was told no rule applies to (by its channel and EventID): counted, not flattened."""

    __slots__ = ()


UNROUTED = Unrouted()
# (Channel, EventID) of a record → whether anything will read it; the values are as found, possibly odd types.
KeepRecord = Callable[[Any, Any], bool]


class EvtxParser:
    """Binary EVTX files through the Rust ``evtx`` crate; a bad record or chunk is reported, never fatal."""

    name: ClassVar[str] = "evtx"

    def __init__(self, threads: int = 1, keep: KeepRecord | None = None, *, raw: bool = True) -> None:
        self.threads = threads  # 1: the caller parallelises across files (hunt --jobs)
        # hunt: records whose route holds no rule skip flattening (a third of a typical Sysmon log)
        self.keep = keep
        # hunt never shows an event's original JSON: without it (``raw`` is then empty) a batch of events holds
        # about half the memory, which the engine reads faster
        self.raw = raw

    def parse(self, data: bytes, *, origin: str) -> Iterator[Event | ParseFailure]:
        return self.parse_file(io.BytesIO(data), origin=origin)

    def parse_file(self, file: Any, *, origin: str) -> Iterator[Event | ParseFailure]:
        """Parse a path or binary file object without reading it whole into memory."""
        if self.keep is not None:
            raise ValueError("a parser with a keep filter yields UNROUTED too: use parse_routed")
        return cast(Iterator[Event | ParseFailure], self._records(file, origin))

    def parse_routed(self, file: Any, *, origin: str) -> Iterator[Event | ParseFailure | Unrouted]:
        """As :meth:`parse_file`, with ``UNROUTED`` in place of each record the keep filter turns down."""
        return self._records(file, origin)

    def _records(self, file: Any, origin: str) -> Iterator[Event | ParseFailure | Unrouted]:
        try:
            parser = evtx.PyEvtxParser(file, self.threads, indent=False, skip_errors=True)
            records = parser.records_json()
        except (OSError, RuntimeError, ValueError) as exc:
            head = file.getvalue() if isinstance(file, io.BytesIO) else b""  # kept as evidence (truncated)
            yield ParseFailure.of(f"not a readable EVTX file: {exc}", f"{origin}:file", head)
            return
        keep, keep_raw = self.keep, self.raw  # keep_raw False: events carry an empty ``raw``, whichever path
        routes: Routes = {}
        # Logs come in runs of one kind: after a record no rule reads, the next is first decoded only as far as
        # its route (half the cost of a whole record), in case it is turned down too.
        unrouted_before = False
        while True:
            batch, failures, done = self._pull(records, origin)
            yield from failures
            for record in batch:  # the per-record work is inlined: this loop runs once per record of a hunt
                data = record.get("data", "")
                item: Event | ParseFailure | Unrouted
                try:
                    if unrouted_before and keep is not None:
                        route = _decode_route(data).Event.System
                        if not _kept_route(route.Channel, route.EventID, keep, routes):
                            yield UNROUTED
                            continue
                    typed = _decode_record(data)
                    system = typed.Event.System
                    unrouted_before = keep is not None and not _kept_route(system.Channel, system.EventID, keep, routes)
                    item = UNROUTED if unrouted_before else _flatten_record(typed, data if keep_raw else "")
                except (msgspec.ValidationError, msgspec.DecodeError, ValueError, TypeError, AttributeError):
                    # another shape, or bad JSON (a failure keeps the record as evidence either way)
                    item = _read_generic(record, data, data if keep_raw else "", origin, keep, routes)
                    unrouted_before = False
                yield item
            if done:
                return

    @staticmethod
    def _pull(records: Any, origin: str) -> tuple[list[dict[str, Any]], list[ParseFailure], bool]:
        """Read a chunk of records while recording the crate's skipped-record warnings.

        Warnings are caught per chunk, not per record (the context manager costs more than parsing a record),
        and never while the generator is suspended (that would swallow other code's warnings).
        """
        batch: list[dict[str, Any]] = []
        failures: list[ParseFailure] = []
        done = False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                batch.extend(islice(records, _CHUNK))  # extend keeps what it read when the crate raises
                done = len(batch) < _CHUNK
            except (OSError, RuntimeError, ValueError) as exc:
                failures.append(ParseFailure.of(f"EVTX stream error: {exc}", f"{origin}:stream", b""))
                done = True
        failures.extend(ParseFailure.of(f"bad EVTX record: {w.message}", f"{origin}:record", b"") for w in caught)
        return batch, failures, done


def _read_generic(
    record: dict[str, Any], data: Any, raw: Any, origin: str, keep: KeepRecord | None, routes: Routes
) -> Event | ParseFailure | Unrouted:
    try:
        doc = orjson.loads(data)
        return UNROUTED if keep is not None and not _kept(doc, keep, routes) else flatten_evtx_json(doc, raw)
    except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
        return _bad_record(record, origin, exc)


def _bad_record(record: dict[str, Any], origin: str, exc: Exception) -> ParseFailure:
    where = f"{origin}:record {record.get('event_record_id')}"
    data = record.get("data", "")
    return ParseFailure.of(f"bad EVTX record: {exc}", where, str(data).encode("utf-8", "replace"))
