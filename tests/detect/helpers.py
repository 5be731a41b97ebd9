"""Build an engine from inline rule text (real files, real pySigma, real pipelines: no mocks)."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

from mamori.detect.engine import Engine

_counter = itertools.count()


def rule_text(detection: str, *, logsource: str = "category: webserver", extra: str = "") -> str:
    number = next(_counter)
    body = textwrap.indent(textwrap.dedent(detection).strip(), "    ")
    return (
        f"title: test rule {number}\nid: 00000000-0000-4000-8000-{number:012d}\n"
        f"logsource:\n    {logsource}\ndetection:\n{body}\nlevel: high\n{extra}"
    )


def engine_for(tmp: Path, *texts: str) -> Engine:
    folder = tmp / f"rules{next(_counter)}"
    folder.mkdir()
    for number, text in enumerate(texts):
        (folder / f"rule{number}.yml").write_text(text, encoding="utf-8")
    return Engine([folder])


def web(**fields: Any) -> dict[str, Any]:
    return {"source": "webserver", **fields}


def matches(engine: Engine, event: dict[str, Any]) -> bool:
    return bool(engine.evaluate(event))
