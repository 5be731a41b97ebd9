"""Shared test helpers: the real third-party data beside the repository, and small event utilities."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from mamori.core.messages import Event
from mamori.ingest.parsers.base import ParseFailure

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"


def data_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test cleanly when the data set is absent."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


def split(items: Iterable[Event | ParseFailure]) -> tuple[list[Event], list[ParseFailure]]:
    """Events and failures of one parse, each in order."""
    events: list[Event] = []
    failures: list[ParseFailure] = []
    for item in items:
        if isinstance(item, ParseFailure):
            failures.append(item)
        else:
            events.append(item)
    return events, failures
