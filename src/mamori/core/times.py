"""Times typed by a caller: bounded, so that converting or storing them can never overflow.

`datetime` accepts year 1 to 9999 in any offset; `0001-01-01T00:00:00+14:00` is valid input yet cannot be
turned into UTC (OverflowError deep in the database driver: a 500). Every time a person or client sends passes
through `Instant`, which refuses what is outside the range the platform stores, with a message in words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def bounded(value: datetime) -> datetime:
    """`value` when it lies within [1970, 9000) once in UTC (a time without offset is taken as UTC)."""
    try:
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError("the time must lie between 1970 and 9000")
    return value


Instant = Annotated[datetime, AfterValidator(bounded)]
