"""Incident errors are the core hierarchy's; these names say which rule refused."""

from __future__ import annotations

from mamori.core.errors import Conflict, ValidationFailed


class TransitionRefused(Conflict):
    """The phase change is not allowed from the current phase."""


class EvidenceTampered(Conflict):
    """A stored evidence file no longer matches the SHA-256 recorded at upload."""


class UnsafeTarget(ValidationFailed):
    """A webhook target resolves to a private, loopback or link-local address that is not allowed."""
