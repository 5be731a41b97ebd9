"""Shared fixtures: the SigmaHQ rule set (loaded once per session, rule cache under .pytest_cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.detect.engine import Engine

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "data"
SIGMAHQ = SHARED / "sigma" / "sigmahq"
SIGMAHQ_DIRS = [SIGMAHQ / "rules", SIGMAHQ / "rules-emerging-threats", SIGMAHQ / "rules-threat-hunting"]
REGRESSION = SHARED / "sigma" / "regression"
EAS = SHARED / "evtx" / "evtx-attack-samples"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    return path


@pytest.fixture(scope="session")
def sigma_cache(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("mamori-sigma"))


@pytest.fixture(scope="session")
def sigmahq_engine(sigma_cache: Path) -> Engine:
    need(SIGMAHQ)
    return Engine(SIGMAHQ_DIRS, cache_dir=sigma_cache)
