"""The ingest service refuses a batch for an organisation that does not exist before it writes the archive."""

from __future__ import annotations

import pytest

from mamori.core.errors import ValidationFailed
from mamori.ingest import service as ingest
from mamori.platform import Platform

LINE = b"Nov 23 08:00:00 host sshd[1]: Failed password for root from 192.0.2.1\n"


def test_an_unknown_organisation_is_refused_before_any_archive_file(platform: Platform) -> None:
    with platform.db.session() as session, pytest.raises(ValidationFailed, match="no organisation 'nope'"):
        ingest.accept(session, archive=platform.archive, org_id="nope", sensor="s1", data=LINE)
    assert not list(platform.settings.archive_dir.rglob("*.parquet"))
    with platform.db.session() as session:
        accepted = ingest.accept(session, archive=platform.archive, org_id="mof", sensor="s1", data=LINE)
    assert accepted.result.accepted == 1 and len(list(platform.settings.archive_dir.rglob("*.parquet"))) == 1
