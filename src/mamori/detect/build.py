"""Turn rule directories into plans, with per-rule isolation and an on-disk cache of the result.

Loading ~3,700 SigmaHQ rules through pySigma and the pipelines takes tens of seconds; the cache (plain plans,
pickled) brings a warm start to about a second. The cache key covers the engine version, every pipeline file
and every rule file's path, size and modification time, so any change rebuilds. The cache directory must be
private to the user (pickle): by default ``$XDG_CACHE_HOME/mamori/sigma``.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType

from mamori.detect import loader, routing
from mamori.detect.compiler import Plan, code_object, compile_rule, rule_meta
from mamori.detect.correlation import CorrelationPlan, plan_correlation
from mamori.detect.errors import RuleRefused
from mamori.detect.loader import Refusal

CACHE_VERSION = "mamori-sigma-3"


@dataclass
class Compiled:
    plans: list[Plan]
    refused: list[Refusal]
    correlations: list[CorrelationPlan] = field(default_factory=list)
    rule_count: int = 0
    code: list[bytes] = field(default_factory=list)  # marshalled bytecode per plan (cache only)

    def codes(self) -> dict[int, CodeType]:
        """Bytecode by plan position; empty when the cache was written by another Python version."""
        if len(self.code) != len(self.plans):
            return {}
        return {i: marshal.loads(blob) for i, blob in enumerate(self.code)}  # noqa: S302 - our private cache


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mamori" / "sigma"


def compile_dirs(directories: Sequence[Path], pipelines_dir: Path = routing.PIPELINES) -> Compiled:
    loaded = loader.load(directories)
    loader.resolve_correlations(loaded)
    pipelines = routing.load_pipelines(pipelines_dir)
    out = Compiled(
        plans=[],
        refused=list(loaded.refused),
        rule_count=len(loaded.rules) + len(loaded.correlations) + len(loaded.refused),
    )
    for path, rule in loaded.rules:
        try:
            out.plans.extend(compile_rule(rule, pipelines, path))
        except RuleRefused as exc:
            out.refused.append(_refusal(path, rule, exc.message))
        except Exception as exc:  # one rule's surprise must not stop the pack (untrusted content)
            out.refused.append(_refusal(path, rule, f"{type(exc).__name__}: {exc}"))
    for path, corr in loaded.correlations:
        try:
            out.correlations.append(plan_correlation(corr, path))
        except RuleRefused as exc:
            out.refused.append(_refusal(path, corr, exc.message))
        except Exception as exc:  # untrusted content: one correlation's surprise must not stop the pack
            out.refused.append(_refusal(path, corr, f"correlation: {type(exc).__name__}: {exc}"))
    return out


def _refusal(path: str, rule: object, reason: str) -> Refusal:
    meta = rule_meta(rule, path)  # type: ignore[arg-type]
    return Refusal(path, meta["rule_id"], meta["title"], reason)


def cache_key(directories: Sequence[Path], pipelines_dir: Path) -> str:
    digest = hashlib.sha256(f"{CACHE_VERSION}|{sys.version}".encode())  # marshal is version-specific
    for source in sorted(Path(__file__).parent.glob("*.py")):  # the compiler's own code is part of the key
        digest.update(source.read_bytes())
    for path in sorted(pipelines_dir.glob("*.yml")):
        digest.update(path.read_bytes())
    for path in loader.rule_files(directories):
        stat = path.stat()
        digest.update(f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def compile_cached(
    directories: Sequence[Path], cache_dir: Path | None, pipelines_dir: Path = routing.PIPELINES
) -> Compiled:
    """Compile, or load the identical result from ``cache_dir`` (None: no cache)."""
    if cache_dir is None:
        return compile_dirs(directories, pipelines_dir)
    key = cache_key(directories, pipelines_dir)
    path = cache_dir / f"{key}.pickle"
    try:
        with path.open("rb") as fh:
            cached = pickle.load(fh)  # noqa: S301 - our own file in a private cache directory
        if isinstance(cached, Compiled):
            return cached
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        pass
    compiled = compile_dirs(directories, pipelines_dir)
    try:
        compiled.code = [marshal.dumps(code_object(p)) for p in compiled.plans]
    except (SyntaxError, ValueError, RecursionError):
        compiled.code = []  # RuleSet reports the broken plan; the cache simply carries no bytecode
    _write_atomic(path, compiled)
    return compiled


def _write_atomic(path: Path, compiled: Compiled) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(compiled, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, RecursionError):
        pass  # a cache is an optimisation: failing to write it is not an error
