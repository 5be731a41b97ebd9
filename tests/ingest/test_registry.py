"""The format registry and the format guess."""

from __future__ import annotations

import pytest

from mamori.ingest.parsers.registry import PARSERS, UNKNOWN, sniff

from .conftest import data_file


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"ElfFile\x00\x00\x00", "evtx"),
        (b'\xef\xbb\xbf  {"a": 1}', "json"),
        (b"[\n{}]", "json"),
        (b"<34>1 2003-10-11T22:14:15.003Z h a - - - m", "syslog"),
        (b"Jun  8 14:34:33 sd-126005 kernel: [5.08] IN=enp1s0", "syslog"),
        (b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"\nmore', "webaccess"),
        (b"", UNKNOWN),
        (b"\x00\x01binary", UNKNOWN),
    ],
)
def test_sniff(head: bytes, expected: str) -> None:
    assert sniff(head) == expected


def test_registry_names_match_parsers() -> None:
    assert set(PARSERS) == {"json", "suricata", "syslog", "webaccess", "evtx", "windows-json"}
    assert all(parser.name == name for name, parser in PARSERS.items())


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("ids/mssis-suricata-icedid-eve/eve.json", "json"),
        ("web/ocatak-apache-http-logs/netsparker.txt", "webaccess"),
        ("web/crowdsec-hub-tests/.tests/ssh-bf/ssh-bf.log", "syslog"),
    ],
)
def test_sniff_real_files(relative: str, expected: str) -> None:
    assert sniff(data_file(relative).read_bytes()) == expected
