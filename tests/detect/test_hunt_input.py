"""What ``mamori hunt`` reads in an evidence folder: binary files are skipped with a reason, not parsed."""

from __future__ import annotations

from pathlib import Path

from mamori.cli.hunt_input import BINARY, Skipped, read, sniff


def test_binary_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    capture = tmp_path / "dns.pcap"
    capture.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + bytes(64) + b"GET / HTTP/1.1\r\n")
    assert sniff(capture) == BINARY
    skipped = read(capture)
    assert isinstance(skipped, Skipped) and "binary" in skipped.reason


def test_text_logs_are_still_read(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b'192.0.2.1 - - [23/Nov/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"\n')
    assert sniff(log) == "webaccess"
    items = read(log)
    assert not isinstance(items, Skipped) and len(list(items)) == 1


def test_a_binary_file_can_still_be_forced_through_a_parser(tmp_path: Path) -> None:
    odd = tmp_path / "odd.log"
    odd.write_bytes(b"<13>Nov 23 08:00:00 host app: hello\x00\n")
    items = read(odd, "syslog")
    assert not isinstance(items, Skipped)


def test_a_text_log_with_injected_nul_bytes_is_still_read(tmp_path: Path) -> None:
    """An attacker's request may put NUL bytes into a log: that must not make the hunt skip the file."""
    log = tmp_path / "access.txt"
    line = b'192.0.2.1 - - [23/Nov/2026:08:00:00 +0000] "GET /x?a=%00\x00\x00 HTTP/1.1" 200 12 "-" "curl/8"\n'
    log.write_bytes(line * 3)
    assert sniff(log) == "webaccess"
    plain = tmp_path / "app.log"
    plain.write_bytes(b"<13>Nov 23 08:00:00 host app: a \x00 b\n" * 20)
    assert sniff(plain) == "syslog"
