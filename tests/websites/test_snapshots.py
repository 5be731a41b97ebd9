"""The snapshot store on a real temporary directory, and restore bundles built from hostile URLs."""

from __future__ import annotations

import hashlib
import io
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.core.errors import Conflict, NotFound, ValidationFailed
from mamori.websites.enums import SnapshotStatus
from mamori.websites.snapshots import SnapshotStore, safe_name

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HOSTILE = [
    "https://x.example/../../etc/passwd",
    "https://x.example/..%2f..%2fboot.ini",
    "https://x.example/a/..\\..\\windows\\win.ini",
    "https://x.example/.htaccess",
    "https://x.example/" + "A" * 5000 + ".js",
    "https://x.example/\u202egnp.js",
    "https://x.example/",
    "https://x.example/dir/",
    "https://x.example/nul\x00byte.js",
]


def test_blobs_are_content_addressed_and_deduplicated(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    digest = store.put(b"<html>hello</html>")
    assert digest == hashlib.sha256(b"<html>hello</html>").hexdigest()
    assert (tmp_path / "sha256" / digest[:2] / digest[2:]).read_bytes() == b"<html>hello</html>"
    assert store.put(b"<html>hello</html>") == digest
    assert len(list((tmp_path / "sha256").rglob("*"))) == 2  # one folder, one file
    assert store.get(digest) == b"<html>hello</html>"


def test_tampered_blob_and_bad_digests_are_refused(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    digest = store.put(b"original")
    store.path_of(digest).write_bytes(b"tampered")
    with pytest.raises(Conflict):
        store.get(digest)
    with pytest.raises(ValidationFailed):
        store.get("../../etc/passwd")
    with pytest.raises(NotFound):
        store.get("0" * 64)


def test_known_good_versus_suspicious_and_last_known_good(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    good = store.save(site_id="moi", url="https://moi.example/", html=b"v1", taken_at=T0)
    store.mark(good, SnapshotStatus.KNOWN_GOOD)
    newer = store.save(site_id="moi", url="https://moi.example/", html=b"v2", taken_at=T0 + timedelta(hours=1))
    store.mark(newer, SnapshotStatus.KNOWN_GOOD)
    bad = store.save(
        site_id="moi", url="https://moi.example/", html=b"hacked", taken_at=T0 + timedelta(hours=2),
        status=SnapshotStatus.SUSPICIOUS,
    )  # fmt: skip
    assert [s.id for s in store.list_("moi")] == [good.id, newer.id, bad.id]
    last = store.last_known_good("moi")
    assert last is not None and last.id == newer.id and store.get(last.html_sha256) == b"v2"
    assert store.last_known_good("other") is None
    with pytest.raises(Conflict):
        store.restore_bundle(bad)


def test_restore_bundle_is_safe_and_verifiable(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    resources = [(url, f"content of {i}".encode()) for i, url in enumerate(HOSTILE)]
    snap = store.save(
        site_id="moi", url="https://moi.example/", html=b"<html>ok</html>", resources=resources, taken_at=T0
    )
    snap = store.mark(snap, SnapshotStatus.KNOWN_GOOD)
    bundle = store.restore_bundle(snap)
    assert bundle == store.restore_bundle(snap)  # deterministic

    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert all(m.isreg() and m.mode == 0o644 for m in members)
        for name in names:
            assert not name.startswith("/") and ".." not in name.split("/") and "\\" not in name
            assert all(part and not part.startswith(".") for part in name.split("/"))
            assert len(name) < 100
        assert len(set(names)) == len(names) == len(HOSTILE) + 3
        out = tmp_path / "restored"
        for member in members:  # the names were checked above (tarfile's extraction filters need 3.11.4+)
            target = out / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
    manifest = (out / "MANIFEST").read_text().splitlines()
    for line in manifest:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert (out / "index.html").read_bytes() == b"<html>ok</html>"
    assert "snapshot.json" in names


def test_safe_names() -> None:
    assert safe_name("https://a.example/static/site.js?v=1", 3) == "resources/003-site.js"
    assert safe_name("https://a.example/../../x", 1) == "resources/001-x"
    assert safe_name("https://a.example/.env", 2) == "resources/002-env"
    assert safe_name("http://[bad", 4) == "resources/004-resource"


@given(st.text(max_size=300), st.integers(min_value=0, max_value=999))
def test_safe_names_never_escape_the_resources_folder(path: str, index: int) -> None:
    name = safe_name("https://x.example/" + path, index)
    folder, _, base = name.partition("/")
    assert folder == "resources" and "/" not in base and "\\" not in base
    assert base and not base.startswith(".") and ".." not in base.split(".")[0:1] and len(name) < 100
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in base)
