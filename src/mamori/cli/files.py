"""`mamori ingest FILE…`: import files through the same ingest service as HTTP, then detect."""

from __future__ import annotations

from pathlib import Path

from mamori.asgi import build_platform, load_matcher
from mamori.cli import gzipped
from mamori.cli.database import open_database
from mamori.core.errors import ValidationFailed
from mamori.ingest import service as ingest
from mamori.settings import Settings
from mamori.workers.detect import detect_batch


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return out


def require_org(settings: Settings, org: str) -> str:
    """The stored slug of ``org``, checked before rules are loaded (they write ``rule-cache/``) or anything
    is imported: a refused command writes nothing. Refuses a missing or unmigrated database first."""
    from mamori.accounts.service import org_id_of

    database = open_database(settings)
    try:
        with database.session() as session:
            return org_id_of(session, org, where="org")
    finally:
        database.dispose()


def _data(path: Path) -> bytes:
    try:
        return gzipped.read_bytes(path)
    except (gzipped.TooLarge, gzipped.Corrupt) as exc:
        raise ValidationFailed(f"{path}: {exc}", where="file") from None


def import_files(settings: Settings, paths: list[Path], *, org: str, sensor: str, fmt: str | None) -> tuple[int, int]:
    # the caller checked the database and the organisation (require_org): a file import never creates one
    platform = build_platform(settings, matcher=load_matcher(settings))
    accepted = rejected = 0
    try:
        for path in _files(paths):
            with platform.db.session() as session:
                try:
                    result = ingest.accept(
                        session, archive=platform.archive, org_id=org, sensor=sensor, data=_data(path), fmt=fmt
                    ).result
                except ValidationFailed as exc:  # which of the files could not be read, and why
                    raise ValidationFailed(f"{path}: {exc.message}", where=exc.where) from None
            accepted += result.accepted
            rejected += result.rejected
            if result.accepted:
                detect_batch(platform, result.batch_id, None)
    finally:
        platform.db.dispose()
    return accepted, rejected
