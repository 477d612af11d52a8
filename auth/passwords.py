"""Password hashing with argon2id, run off the event loop with bounded concurrency.

The default profile is OWASP's minimum for argon2id (19 MiB, 2 iterations, parallelism 1): it
meets the guidance while allowing several times more logins per core than the library default.
The profile is a setting; a hash made with other parameters is upgraded at the next login.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from auth.settings import get_auth_settings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).parent / "common_passwords.txt"


@cache
def password_hasher() -> PasswordHasher:
    settings = get_auth_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


@cache
def _hash_limiter() -> anyio.CapacityLimiter:
    return anyio.CapacityLimiter(get_auth_settings().password_hash_concurrency)


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so both cases cost the same."""
    return password_hasher().hash("larder-dummy-password-for-equal-work")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    return password.strip().lower() in common_passwords()


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, does the same work and returns False."""
    try:
        password_hasher().verify(hashed or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return hashed is not None


def needs_rehash(hashed: str) -> bool:
    try:
        return password_hasher().check_needs_rehash(hashed)
    except InvalidHashError:
        return True


async def hash_password_async(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_hash_limiter())


async def verify_password_async(hashed: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(
        verify_password, hashed, password, limiter=_hash_limiter()
    )


def reset_password_caches() -> None:
    """Forget the hasher built from settings (tests change the argon2 profile)."""
    for cached in (password_hasher, _hash_limiter, _dummy_hash):
        cached.cache_clear()
