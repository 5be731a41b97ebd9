"""Severity levels, the Sigma `level` vocabulary, ordered."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    INFORMATIONAL = "informational"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: object, default: Severity | None = None) -> Severity:
        """Read a level from untrusted input; unknown values fall back to `default` (or MEDIUM)."""
        text = str(value or "").strip().lower()
        if text == "info":
            text = "informational"
        try:
            return cls(text)
        except ValueError:
            return default or cls.MEDIUM


_RANK = {s: i for i, s in enumerate(Severity)}
