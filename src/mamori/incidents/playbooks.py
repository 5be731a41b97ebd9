"""Playbooks as data: one YAML file per category under `playbooks/`, validated when loaded.

Each file lists tasks with the phase they belong to, the role that owns them and a due offset (hours after
the incident is created or recategorised). An `expect:` block holds the file's own test: how many tasks each
phase must get. The loader collects every error with its file and task index instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mamori.accounts.enums import Role
from mamori.core.errors import ConfigurationError
from mamori.incidents.enums import Category, Phase

HERE = Path(__file__).parent / "playbooks"


@dataclass(frozen=True)
class PlaybookTask:
    title: str
    phase: Phase
    owner_role: Role
    due_hours: float


@dataclass(frozen=True)
class Playbook:
    name: str
    category: Category
    title: str
    tasks: tuple[PlaybookTask, ...]
    expect: dict[str, int]  # phase -> number of tasks, checked by the playbook tests

    def tasks_in(self, phase: Phase) -> list[PlaybookTask]:
        return [t for t in self.tasks if t.phase is phase]


def _task(raw: Any, where: str, errors: list[str]) -> PlaybookTask | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: a task must be a mapping")
        return None
    try:
        title = str(raw["title"]).strip()
        if not title:
            raise ValueError("empty title")
        return PlaybookTask(title, Phase(raw["phase"]), Role(raw["owner_role"]), float(raw.get("due_hours", 24)))
    except (KeyError, ValueError, TypeError) as exc:
        errors.append(f"{where}: {exc!r}")
        return None


def parse(data: Any, where: str, errors: list[str]) -> Playbook | None:
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
        errors.append(f"{where}: needs a mapping with a `tasks` list")
        return None
    try:
        category = Category(data["category"])
    except (KeyError, ValueError):
        errors.append(f"{where}: unknown or missing category {data.get('category')!r}")
        return None
    tasks = [_task(raw, f"{where}: tasks[{i}]", errors) for i, raw in enumerate(data["tasks"])]
    if any(t is not None and t.phase is Phase.CLOSED for t in tasks):
        errors.append(f"{where}: no task may belong to the closed phase")
    expect = {str(k): int(v) for k, v in (data.get("expect") or {}).items()}
    return Playbook(
        name=str(data.get("name") or category.value),
        category=category,
        title=str(data.get("title") or category.value),
        tasks=tuple(t for t in tasks if t is not None),
        expect=expect,
    )


def load_dir(directory: Path) -> dict[Category, Playbook]:
    errors: list[str] = []
    found: dict[Category, Playbook] = {}
    for path in sorted(directory.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            errors.append(f"{path.name}: {exc}")
            continue
        book = parse(data, path.name, errors)
        if book is not None:
            if book.category in found:
                errors.append(f"{path.name}: a second playbook for {book.category.value}")
            found[book.category] = book
    if errors:
        raise ConfigurationError("; ".join(errors), where=str(directory))
    return found


@cache
def builtin() -> dict[Category, Playbook]:
    """The playbooks shipped with mamori (loaded once per process)."""
    return load_dir(HERE)


def for_category(category: Category) -> Playbook | None:
    return builtin().get(category)
