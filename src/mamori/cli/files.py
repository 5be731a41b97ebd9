"""`mamori ingest FILE…`: import files through the same ingest service as HTTP, then detect."""

from __future__ import annotations

from pathlib import Path

from mamori.asgi import build_platform, load_matcher
from mamori.ingest import service as ingest
from mamori.settings import Settings
from mamori.workers.detect import detect_batch


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return out


def import_files(settings: Settings, paths: list[Path], *, org: str, sensor: str, fmt: str | None) -> tuple[int, int]:
    # the caller checked that the database exists and is migrated (a file import never creates one)
    platform = build_platform(settings, matcher=load_matcher(settings))
    accepted = rejected = 0
    try:
        for path in _files(paths):
            with platform.db.session() as session:
                result = ingest.accept(
                    session,
                    archive=platform.archive,
                    org_id=org,
                    sensor=sensor,
                    data=path.read_bytes(),
                    fmt=fmt,
                ).result
            accepted += result.accepted
            rejected += result.rejected
            if result.accepted:
                detect_batch(platform, result.batch_id, None)
    finally:
        platform.db.dispose()
    return accepted, rejected
