"""Password hashing: argon2id for new hashes; verifies the PHP system's bcrypt ($2y$) hashes.

A legacy or outdated hash is reported as needing a rehash, so the caller stores
a fresh argon2id hash at the next successful login.
"""
from __future__ import annotations

from typing import Any, Mapping

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")
_hasher = PasswordHasher()


def configure(settings: Mapping[str, Any]) -> None:
    global _hasher
    _hasher = PasswordHasher(
        time_cost=int(settings["ARGON2_TIME_COST"]),
        memory_cost=int(settings["ARGON2_MEMORY_KIB"]),
        parallelism=int(settings["ARGON2_PARALLELISM"]),
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    if stored_hash.startswith(_BCRYPT_PREFIXES):
        encoded = password.encode("utf-8")
        if len(encoded) > 72:  # bcrypt cannot judge longer input; refuse rather than truncate
            return False
        # PHP writes $2y$; the C library accepts $2b$ with the same algorithm.
        candidate = ("$2b$" + stored_hash[4:]).encode("ascii")
        try:
            return bcrypt.checkpw(encoded, candidate)
        except ValueError:
            return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    if stored_hash.startswith(_BCRYPT_PREFIXES):
        return True
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


_DUMMY_HASH: str | None = None


def burn_time(password: str) -> None:
    """Verify against a dummy hash so an unknown e-mail costs as much as a wrong password."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("origin-dummy-password")
    verify_password(_DUMMY_HASH, password)
