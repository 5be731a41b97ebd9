"""Known-good copies of websites: a content-addressed store and restore bundles for responders.

Blobs (pages, scripts, stylesheets) live at ``root/sha256/ab/cdef…`` under their SHA-256, so a page that
did not change costs nothing to store again and every byte can be verified on read. A snapshot's manifest
(site, URL, time, the blobs it is made of, its review status) lives at ``root/snapshots/<site>/<id>.json``;
its id is the SHA-256 of its immutable part. The lead's ``Snapshot`` rows point here.

``restore_bundle`` gives a responder a ``.tar.gz`` of a known-good version: ``index.html``, ``resources/``,
``MANIFEST`` (``sha256sum -c`` format), ``snapshot.json`` and, given one, ``approval.json`` (the approval the
copy comes from). Resource names come from URLs an attacker may
control, so they are rebuilt from a safe alphabet, numbered, and never contain a path separator or "..".
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from mamori.core.errors import Conflict, NotFound, ValidationFailed
from mamori.websites.enums import SnapshotStatus

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 80


@dataclass(frozen=True, slots=True)
class Resource:
    url: str
    sha256: str
    size: int
    name: str  # safe path inside a restore bundle: resources/003-site.js


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: str
    site_id: str
    url: str
    taken_at: datetime
    html_sha256: str
    resources: tuple[Resource, ...]
    status: SnapshotStatus = SnapshotStatus.UNREVIEWED


def safe_name(url: str, index: int) -> str:
    """``resources/NNN-<last path segment, safe alphabet>``: unique, relative, no separators, no dot-files."""
    try:
        segment = urlsplit(url).path.rsplit("/", 1)[-1]
    except ValueError:
        segment = ""
    cleaned = _UNSAFE.sub("_", segment).lstrip("._-")[:MAX_NAME] or "resource"
    return f"resources/{index:03d}-{cleaned}"


class SnapshotStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- blobs ------------------------------------------------------------------------------------------
    def path_of(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise ValidationFailed("not a SHA-256 hex digest", where=digest[:80])
        return self.root / "sha256" / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_of(digest)
        if not path.exists():
            _atomic_write(path, data)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            data = self.path_of(digest).read_bytes()
        except FileNotFoundError:
            raise NotFound("no such blob", where=digest) from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise Conflict("stored blob does not match its hash (corrupted or tampered)", where=digest)
        return data

    # --- snapshots --------------------------------------------------------------------------------------
    def save(
        self,
        *,
        site_id: str,
        url: str,
        html: bytes,
        resources: Iterable[tuple[str, bytes]] = (),
        taken_at: datetime,
        status: SnapshotStatus = SnapshotStatus.UNREVIEWED,
    ) -> Snapshot:
        entries = []
        for n, (res_url, data) in enumerate(sorted(dict(resources).items()), start=1):
            entries.append(Resource(res_url, self.put(data), len(data), safe_name(res_url, n)))
        html_sha = self.put(html)
        identity: dict[str, object] = {"site_id": site_id, "url": url, "taken_at": taken_at.isoformat()}
        identity |= {"html": html_sha, "resources": [[r.url, r.sha256] for r in entries]}
        snap_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        snapshot = Snapshot(snap_id, site_id, url, taken_at, html_sha, tuple(entries), status)
        self._write_manifest(snapshot)
        return snapshot

    def mark(self, snapshot: Snapshot, status: SnapshotStatus) -> Snapshot:
        marked = replace(self.get_snapshot(snapshot.site_id, snapshot.id), status=status)
        self._write_manifest(marked)
        return marked

    def get_snapshot(self, site_id: str, snapshot_id: str) -> Snapshot:
        if not _DIGEST.match(snapshot_id):
            raise NotFound("no such snapshot", where=snapshot_id[:80])
        try:
            return _from_json(json.loads((self._site_dir(site_id) / f"{snapshot_id}.json").read_text()))
        except FileNotFoundError:
            raise NotFound("no such snapshot", where=snapshot_id) from None

    def list_(self, site_id: str) -> list[Snapshot]:
        folder = self._site_dir(site_id)
        found = [_from_json(json.loads(p.read_text())) for p in folder.glob("*.json")] if folder.exists() else []
        return sorted(found, key=lambda s: (s.taken_at, s.id))

    def last_known_good(self, site_id: str) -> Snapshot | None:
        good = [s for s in self.list_(site_id) if s.status is SnapshotStatus.KNOWN_GOOD]
        return good[-1] if good else None

    def restore_bundle(self, snapshot: Snapshot, *, approval: Mapping[str, object] | None = None) -> bytes:
        """A tar.gz of a known-good snapshot; refuses any other status (never hand back the defaced page).

        ``approval`` (who approved this page, when, why) goes into ``approval.json``, is listed in
        ``MANIFEST`` and repeated under ``"approval"`` in ``snapshot.json``: a responder restoring a site
        can always say which approval the copy comes from.
        """
        current = self.get_snapshot(snapshot.site_id, snapshot.id)
        if current.status is not SnapshotStatus.KNOWN_GOOD:
            raise Conflict(f"snapshot is {current.status}, only known-good versions are restored", where=snapshot.id)
        files = [("index.html", self.get(current.html_sha256))]
        files += [(r.name, self.get(r.sha256)) for r in current.resources]
        described: dict[str, object] = dict(_to_json(current))
        if approval is not None:
            files.append(("approval.json", json.dumps(dict(approval), indent=2).encode()))
            described["approval"] = dict(approval)
        manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files)
        files += [
            ("MANIFEST", manifest.encode()),
            ("snapshot.json", json.dumps(described, indent=2).encode()),
        ]
        return _tar_gz(files, mtime=int(current.taken_at.timestamp()))

    def _site_dir(self, site_id: str) -> Path:
        return self.root / "snapshots" / hashlib.sha256(site_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def _write_manifest(self, snapshot: Snapshot) -> None:
        path = self._site_dir(snapshot.site_id) / f"{snapshot.id}.json"
        _atomic_write(path, json.dumps(_to_json(snapshot), indent=2).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    """Write then rename: a crash leaves either the old file or the new one, never half a blob."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _tar_gz(files: list[tuple[str, bytes]], *, mtime: int) -> bytes:
    """Regular files only, fixed owner and mode: the same snapshot always gives the same bytes."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), max(mtime, 0), 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _to_json(s: Snapshot) -> dict[str, object]:
    return {
        "id": s.id,
        "site_id": s.site_id,
        "url": s.url,
        "taken_at": s.taken_at.isoformat(),
        "html_sha256": s.html_sha256,
        "status": str(s.status),
        "resources": [{"url": r.url, "sha256": r.sha256, "size": r.size, "name": r.name} for r in s.resources],
    }


def _from_json(d: dict[str, object]) -> Snapshot:
    resources = d["resources"]
    assert isinstance(resources, list)
    return Snapshot(
        id=str(d["id"]),
        site_id=str(d["site_id"]),
        url=str(d["url"]),
        taken_at=datetime.fromisoformat(str(d["taken_at"])),
        html_sha256=str(d["html_sha256"]),
        resources=tuple(Resource(str(r["url"]), str(r["sha256"]), int(r["size"]), str(r["name"])) for r in resources),
        status=SnapshotStatus(str(d["status"])),
    )
