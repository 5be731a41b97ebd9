"""Read rule packs (directories of Sigma YAML) with pySigma, collecting every error instead of stopping.

Loading never raises for one bad rule: each problem becomes a :class:`Refusal` with the file and the reason,
which ``mamori rules check`` prints and the engine exposes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from mamori.core.errors import MamoriError

RULE_SUFFIXES = (".yml", ".yaml")
MAX_RULE_BYTES = 1_000_000  # a rule file larger than this is refused (untrusted content)


@dataclass(frozen=True, slots=True)
class Refusal:
    path: str
    rule_id: str
    title: str
    reason: str


@dataclass
class LoadedRules:
    rules: list[tuple[str, SigmaRule]]
    correlations: list[tuple[str, SigmaCorrelationRule]]
    refused: list[Refusal]


def rule_files(directories: Iterable[Path]) -> Iterator[Path]:
    """Rule files under the directories, sorted; test-sample files (``*.tests.yml``) are not rules."""
    for directory in directories:
        paths = [directory] if directory.is_file() else sorted(directory.rglob("*"))
        for path in paths:
            if path.suffix in RULE_SUFFIXES and path.is_file() and not path.name.endswith(".tests.yml"):
                yield path


def load(directories: Iterable[Path]) -> LoadedRules:
    out = LoadedRules([], [], [])
    for path in rule_files(directories):
        _load_file(path, out)
    return out


def _load_file(path: Path, out: LoadedRules) -> None:
    where = str(path)
    try:
        if path.stat().st_size > MAX_RULE_BYTES:
            raise MamoriError(f"file larger than {MAX_RULE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
        collection = SigmaCollection.from_yaml(text, collect_errors=True, resolve_references=False)
    except (OSError, UnicodeDecodeError, SigmaError, MamoriError, ValueError) as exc:
        out.refused.append(Refusal(where, "", "", f"cannot read rule file: {exc}"))
        return
    except Exception as exc:  # pySigma may fail on unexpected YAML shapes (untrusted content)
        out.refused.append(Refusal(where, "", "", f"cannot parse rule file: {type(exc).__name__}: {exc}"))
        return
    rule_errors: set[str] = set()
    for rule in collection.rules:
        rule_id = str(rule.id) if rule.id else ""
        errors = list(dict.fromkeys(str(e) for e in rule.errors))  # pySigma may repeat one error
        if errors:
            rule_errors.update(errors)
            out.refused.append(Refusal(where, rule_id, rule.title or "", "; ".join(errors)))
        elif isinstance(rule, SigmaCorrelationRule):
            out.correlations.append((where, rule))
        elif isinstance(rule, SigmaRule):
            out.rules.append((where, rule))
    # file-level errors (bad YAML, a document that is no rule) not already reported with a rule
    for error in dict.fromkeys(str(e) for e in getattr(collection, "errors", [])):
        if error not in rule_errors:
            out.refused.append(Refusal(where, "", "", f"cannot parse rule file: {error}"))


def resolve_correlations(loaded: LoadedRules) -> None:
    """Resolve each correlation's rule references across all packs; an unresolvable one is refused."""
    members: list[Any] = [r for _, r in loaded.rules] + [c for _, c in loaded.correlations]
    pool = SigmaCollection(members, resolve_references=False)
    kept: list[tuple[str, SigmaCorrelationRule]] = []
    for where, corr in loaded.correlations:
        try:
            corr.resolve_rule_references(pool)
        except SigmaError as exc:
            loaded.refused.append(Refusal(where, str(corr.id or ""), corr.title or "", f"correlation: {exc}"))
            continue
        kept.append((where, corr))
    loaded.correlations = kept
