"""Errors of the website watch, in the one hierarchy of :mod:`mamori.core.errors`."""

from __future__ import annotations

from mamori.core.errors import PermissionDenied


class UnsafeTarget(PermissionDenied):
    """The SSRF guard refused a URL or an address (private, loopback, bad scheme, credentials in the URL)."""
