"""What ``mamori hunt`` reads in an evidence folder: binary files are skipped with a reason, not parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_only_log_files_are_read_by_content_and_name(tmp_path: Path) -> None:
    """A checkout or a web root next to the logs: its LICENSE, COMMIT and pages are no syslog."""
    from mamori.cli.hunt_input import HTML, NOT_A_LOG, UNKNOWN_FORMAT

    files = {
        "LICENSE": (b"Apache License\nVersion 2.0, January 2004\n", NOT_A_LOG),
        "LICENSE.txt": (b"Apache License\nVersion 2.0, January 2004\n", NOT_A_LOG),
        "COMMIT": (b"758c5e7 i18n: one message lookup\n", NOT_A_LOG),
        "notes": (b"call the ministry back on Monday\n", NOT_A_LOG),
        "index.html": (b"<p>hello</p>\n", HTML),
        "page": (b"\n<!DOCTYPE html>\n<html><body>x</body></html>\n", HTML),
        "messages": (b"Nov 23 08:00:00 host sshd[1]: Failed password for root\n", "syslog"),
        "syslog.1": (b"Nov 23 08:00:00 host cron[2]: (root) CMD (run-parts)\n", "syslog"),
        "app.log.2": (b"multi-line\nheader\n<13>Nov 23 08:00:00 host app: hello\n", "syslog"),
        "kern": (b"a line the syslog parser would count as bad\n", UNKNOWN_FORMAT),
        "netlogon.txt": (b"08/11 10:04:48 [MISC] [6532] DC01: NetrServerAuthenticate3\n", UNKNOWN_FORMAT),
        "no-extension": (b"2026-11-23T08:00:00+09:00 host sshd[1]: Accepted publickey\n", "syslog"),
        "events": (b'{"EventID": 4624, "Channel": "Security"}\n', "windows-json"),
    }
    for name, (content, _) in files.items():
        (tmp_path / name).write_bytes(content)
    assert {name: sniff(tmp_path / name) for name in files} == {name: kind for name, (_, kind) in files.items()}
    skipped = read(tmp_path / "COMMIT")
    assert isinstance(skipped, Skipped) and skipped.kind == NOT_A_LOG


def test_a_folder_walk_skips_hidden_folders_and_documents_with_a_reason(tmp_path: Path) -> None:
    from mamori.cli.hunt_input import HIDDEN, HTML, discover

    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "ab").write_bytes(b"x\x9c" + bytes(100))
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html></html>")
    (tmp_path / "site" / "README.md").write_text("# notes")
    (tmp_path / "site" / "access.log").write_text("")
    found = list(discover([tmp_path]))
    assert [p for p in found if isinstance(p, Path)] == [tmp_path / "site" / "access.log"]
    kinds = {Path(s.path).name: s.kind for s in found if isinstance(s, Skipped)}
    assert kinds == {".git": HIDDEN, "index.html": HTML, "README.md": "not a log"}


def test_manifests_and_configuration_are_skipped_and_json_logs_still_read(tmp_path: Path) -> None:
    """A project folder next to the logs: pyproject.toml was read as JSON, package.json counted as a record."""
    from mamori.cli.hunt_input import NOT_A_LOG, NOT_RECORDS, discover

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "package.json").write_text('{\n  "name": "x",\n  "version": "1.0.0"\n}\n')
    (tmp_path / "ci.yml").write_text("on: push\n")
    (tmp_path / "settings.json").write_text('{\n  "editor.tabSize": 4,\n  "files.exclude": {}\n}\n')
    (tmp_path / "eve.json").write_bytes(b'{"event_type": "alert", "src_ip": "203.0.113.9"}\n')
    (tmp_path / "export.json").write_bytes(b'[\n  {"EventID": 4625, "Channel": "Security"}\n]\n')
    (tmp_path / "wrapped.json").write_bytes(b'{\n  "records": [\n    {"src_ip": "203.0.113.9"}\n  ]\n}\n')
    found = list(discover([tmp_path]))
    kinds = {Path(s.path).name: s.kind for s in found if isinstance(s, Skipped)}
    assert kinds == {"pyproject.toml": NOT_A_LOG, "package.json": NOT_A_LOG, "ci.yml": NOT_A_LOG}
    sniffed = {p.name: sniff(p) for p in found if isinstance(p, Path)}
    assert sniffed == {
        "settings.json": NOT_RECORDS,
        "eve.json": "json",
        "export.json": "windows-json",
        "wrapped.json": "json",
    }
    assert sniff(tmp_path / "package.json") == NOT_RECORDS  # named on the command line, not walked
    skipped = read(tmp_path / "settings.json")
    assert isinstance(skipped, Skipped) and "not log records" in skipped.reason


def test_a_rotated_gzip_log_is_read_decompressed(tmp_path: Path) -> None:
    import gzip

    from mamori.cli.hunt_input import discover

    line = b'203.0.113.9 - - [23/Nov/2026:08:00:00 +0900] "GET /wp-login.php HTTP/1.1" 404 12 "-" "curl"\n'
    (tmp_path / "access.log.1.gz").write_bytes(gzip.compress(line * 3))
    (tmp_path / "messages.2.gz").write_bytes(gzip.compress(b"Nov 23 08:00:00 host sshd[1]: Failed password\n"))
    found = list(discover([tmp_path]))
    assert found == [tmp_path / "access.log.1.gz", tmp_path / "messages.2.gz"]
    assert [sniff(p) for p in found] == ["webaccess", "syslog"]
    items = read(tmp_path / "access.log.1.gz")
    assert not isinstance(items, Skipped)
    events = list(items)
    assert len(events) == 3 and all(isinstance(e, dict) for e in events)


def test_a_gzip_bomb_or_a_broken_gzip_is_skipped_with_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from mamori.cli import gzipped
    from mamori.cli.hunt_input import TOO_LARGE, UNREADABLE

    monkeypatch.setattr(gzipped, "MAX_DECOMPRESSED_BYTES", 100_000)  # the bound, small enough for a test
    bomb = tmp_path / "access.log.gz"
    bomb.write_bytes(gzip.compress(b'1.2.3.4 - - [23/Nov/2026:08:00:00 +0900] "GET / HTTP/1.1" 200 1\n' * 5000))
    skipped = read(bomb)
    assert isinstance(skipped, Skipped) and skipped.kind == TOO_LARGE and "more than" in skipped.reason
    broken = tmp_path / "syslog.1.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    skipped = read(broken)
    assert isinstance(skipped, Skipped) and skipped.kind == UNREADABLE and "gzip" in skipped.reason
