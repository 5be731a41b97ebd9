"""The one exception hierarchy of mamori.

    MamoriError                  root; carries a message meant for a person
    ├── NotFound                 the object does not exist *or the caller may not see it* (never leak existence)
    ├── PermissionDenied         the caller is known but the action is not allowed for their role
    ├── AuthenticationRequired   no valid session or token
    ├── ValidationFailed         input was understood but refused; `where` says which field/line/rule
    ├── Conflict                 the change collides with the current state (duplicate, wrong workflow state)
    ├── PayloadTooLarge          an upload or request body is over the configured limit
    └── ConfigurationError       settings or content (rules, playbooks) are wrong; found at start-up

The HTTP layer maps each class to one status code in a single place (`mamori.api.errors`).
"""

from __future__ import annotations


class MamoriError(Exception):
    """Root of every error mamori raises on purpose."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class NotFound(MamoriError):
    pass


class PermissionDenied(MamoriError):
    pass


class AuthenticationRequired(MamoriError):
    pass


class ValidationFailed(MamoriError):
    pass


class Conflict(MamoriError):
    pass


class PayloadTooLarge(MamoriError):
    pass


class ConfigurationError(MamoriError):
    pass
