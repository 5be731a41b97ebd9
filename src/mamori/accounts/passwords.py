"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
# Verified against when a username does not exist, so a login takes the same time either way.
_DUMMY_HASH = _HASHER.hash("mamori-timing-equaliser")


def use_parameters(parameters: Parameters) -> None:
    """Change the cost of new hashes (tests use argon2's cheapest profile; old hashes keep verifying)."""
    global _HASHER, _DUMMY_HASH
    _HASHER = PasswordHasher.from_parameters(parameters)
    _DUMMY_HASH = _HASHER.hash("mamori-timing-equaliser")


MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return str(_HASHER.hash(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash or _DUMMY_HASH, password)) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
