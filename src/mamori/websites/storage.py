"""Where the watch keeps page bytes: known-good and evidence snapshots, and each site's last fetched page.

Snapshots go to the content-addressed :class:`~mamori.websites.snapshots.SnapshotStore`. The last fetched
page of each site is one file, overwritten by every check: a page that carries a fresh token per request
would otherwise add a blob to the store every few minutes, forever. It is kept so that a person can look at
the current page and approve it; the check row records its SHA-256, which is verified on every read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mamori.core.errors import Conflict, NotFound
from mamori.websites.snapshots import SnapshotStore, _atomic_write


class LatestPages:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, site_uid: str) -> Path:
        return self.root / hashlib.sha256(site_uid.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def put(self, site_uid: str, body: bytes) -> str:
        _atomic_write(self._path(site_uid), body)
        return hashlib.sha256(body).hexdigest()

    def get(self, site_uid: str, sha256: str) -> bytes:
        """The last page, only if it is still the one whose hash the database recorded."""
        try:
            body = self._path(site_uid).read_bytes()
        except FileNotFoundError:
            raise NotFound("no page fetched yet", where=site_uid) from None
        if hashlib.sha256(body).hexdigest() != sha256:
            raise Conflict("the last page changed since it was recorded; check again", where=site_uid)
        return body

    def forget(self, site_uid: str) -> None:
        self._path(site_uid).unlink(missing_ok=True)


@dataclass(frozen=True)
class PageStores:
    snapshots: SnapshotStore
    latest: LatestPages

    @classmethod
    def under(cls, data_dir: Path) -> PageStores:
        root = Path(data_dir) / "websites"
        return cls(SnapshotStore(root / "snapshots"), LatestPages(root / "latest"))
