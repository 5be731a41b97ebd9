"""Side-by-side text of two versions of a page (the baseline and the current one), for a person to read.

Only the visible text lines are compared (as integrity analysis reads them); the rows are plain strings
that the console escapes. Nothing of the page is ever rendered as HTML.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import zip_longest

from mamori.websites.page import read_page

MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class DiffRow:
    op: str  # "same", "changed", "removed" (only in the baseline) or "added" (only in the current page)
    left: str
    right: str


def text_lines(html: bytes, *, url: str) -> list[str]:
    return list(read_page(html, url=url).marker_lines)[:MAX_LINES]


def side_by_side(baseline: bytes, current: bytes, *, url: str) -> list[DiffRow]:
    a, b = text_lines(baseline, url=url), text_lines(current, url=url)
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [DiffRow("same", line, line) for line in a[i1:i2]]
        elif tag == "delete":
            rows += [DiffRow("removed", line, "") for line in a[i1:i2]]
        elif tag == "insert":
            rows += [DiffRow("added", "", line) for line in b[j1:j2]]
        else:
            pairs = zip_longest(a[i1:i2], b[j1:j2], fillvalue="")
            rows += [DiffRow("changed", left, right) for left, right in pairs]
    return rows
