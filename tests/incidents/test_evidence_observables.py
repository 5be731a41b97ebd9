from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from mamori.core.errors import Conflict, PayloadTooLarge
from mamori.incidents import evidence, observables
from mamori.incidents import service as incidents
from mamori.incidents.enums import ObservableKind
from mamori.incidents.schemas import IncidentIn, ObservableIn, TransferIn
from mamori.storage.db import Database
from tests.incidents.conftest import make_alert, who

CONTENT = b"GET /uploads/shell.php?cmd=id HTTP/1.1\n" * 1000


def upload(s: object, files: Path, incident_id: int, name: str = "../../etc/access.log", max_bytes: int = 10**6):
    return evidence.upload(
        s,  # type: ignore[arg-type]
        principal=who(s, "org_officer-mof"),  # type: ignore[arg-type]
        incident_id=incident_id,
        chunks=[CONTENT[:10_000], CONTENT[10_000:]],
        filename=name,
        content_type="text/plain",
        description="web server log",
        files_dir=files,
        max_bytes=max_bytes,
    )


def test_evidence_is_content_addressed_verified_on_download_and_in_custody(tenants: Database, tmp_path: Path) -> None:
    files = tmp_path / "files"
    with tenants.session() as s:
        inc = incidents.create(s, principal=who(s, "org_officer-mof"), data=IncidentIn(org_id="mof", title="x"))
        row = upload(s, files, inc.id)
        sha = hashlib.sha256(CONTENT).hexdigest()
        assert (row.sha256, row.size, row.filename) == (sha, len(CONTENT), "access.log")  # no path from the client
        stored = files / "sha256" / sha[:2] / sha[2:4] / sha
        assert stored.read_bytes() == CONTENT and not list((files / "tmp").iterdir())
        got = evidence.download(s, principal=who(s, "national_analyst-ncc"), evidence_id=row.id, files_dir=files)
        assert got.intact and got.path == stored
        evidence.transfer(
            s, principal=who(s, "org_officer-mof"), evidence_id=row.id, data=TransferIn(to="forensic lab")
        )
        assert row.holder == "forensic lab"
    stored.chmod(0o640)
    stored.write_bytes(CONTENT + b"tampered")
    with tenants.session() as s:
        got = evidence.download(s, principal=who(s, "org_officer-mof"), evidence_id=row.id, files_dir=files)
        assert not got.intact
    with tenants.session() as s:
        log = evidence.custody(s, principal=who(s, "org_officer-mof"), evidence_id=row.id)
        assert [(c.action, c.actor) for c in log] == [
            ("upload", "org_officer-mof"),
            ("download", "national_analyst-ncc"),
            ("transfer", "org_officer-mof"),
            ("integrity_failure", "org_officer-mof"),
        ]
    with pytest.raises(Exception, match="append-only"), tenants.session() as s:
        s.execute(text("UPDATE evidence_custody SET actor = 'nobody'"))


def test_evidence_over_the_limit_is_refused_and_leaves_nothing(tenants: Database, tmp_path: Path) -> None:
    files = tmp_path / "files"
    with tenants.session() as s:
        inc = incidents.create(s, principal=who(s, "org_officer-mof"), data=IncidentIn(org_id="mof", title="x"))
        with pytest.raises(PayloadTooLarge):
            upload(s, files, inc.id, max_bytes=1000)
    assert not list((files / "tmp").iterdir()) and not (files / "sha256").exists()


def test_seen_in_other_incidents_is_redacted_for_ministries(tenants: Database) -> None:
    with tenants.session() as s:
        shared = {"src_ip": "203.0.113.7"}
        mine = incidents.create(
            s,
            principal=who(s, "org_officer-mof"),
            data=IncidentIn(org_id="mof", title="mine", alert_ids=[make_alert(s, "mof", entities=shared).id]),
        )
        incidents.create(
            s,
            principal=who(s, "org_officer-mofa"),
            data=IncidentIn(org_id="mofa", title="MOFA-ONLY", alert_ids=[make_alert(s, "mofa", entities=shared).id]),
        )
        obs = observables.list_(s, principal=who(s, "org_officer-mof"), incident_id=mine.id)
        ministry = observables.seen_elsewhere(s, principal=who(s, "org_officer-mof"), incident=mine, observables=obs)
        national = observables.seen_elsewhere(
            s, principal=who(s, "national_analyst-ncc"), incident=mine, observables=obs
        )
        (ip,) = [o for o in obs if o.kind == "ip"]
        assert ministry[ip.id].other_orgs == 1 and ministry[ip.id].incidents is None
        assert "MOFA-ONLY" not in ministry[ip.id].model_dump_json()
        assert [h["org_id"] for h in national[ip.id].incidents or []] == ["mofa"]


def test_observables_are_normalised_and_unique_per_incident(tenants: Database) -> None:
    with tenants.session() as s:
        officer = who(s, "org_officer-mof")
        inc = incidents.create(s, principal=officer, data=IncidentIn(org_id="mof", title="x"))
        row = observables.add(
            s,
            principal=officer,
            incident_id=inc.id,
            data=ObservableIn(kind=ObservableKind.DOMAIN, value="Evil.Example."),
        )
        assert row.value == "evil.example"
        with pytest.raises(Conflict):
            observables.add(
                s,
                principal=officer,
                incident_id=inc.id,
                data=ObservableIn(kind=ObservableKind.DOMAIN, value="evil.example"),
            )
        assert observables.normalise(ObservableKind.IP, " 2001:DB8::1 ") == "2001:db8::1"
        assert observables.from_entities({"src_ip": "not-an-ip", "host": "WS01"}) == [(ObservableKind.HOST, "ws01")]
