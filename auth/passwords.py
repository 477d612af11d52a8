"""Password hashing with argon2id, run off the event loop with bounded concurrency.

The default profile is OWASP's minimum for argon2id (19 MiB, 2 iterations, parallelism 1): it
meets the guidance while allowing several times more logins per core than the library default.
The profile is a setting; a hash made with other parameters is upgraded at the next login.

At most `PASSWORD_HASH_CONCURRENCY` hashes run at once, and the queue for a slot is bounded in
time too: a request that waits `PASSWORD_HASH_QUEUE_SECONDS` without one is refused (503 with
Retry-After) rather than queued behind a flood of logins and sign-ups it cannot outlast.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from auth.settings import get_auth_settings
from shared.errors import ServiceUnavailable

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).parent / "common_passwords.txt"

T = TypeVar("T")


class PasswordHashingBusy(ServiceUnavailable):
    """No hashing slot came free in time: the server is saturated with password checks."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(
            "Too many sign-ins at once; try again shortly",
            headers={"Retry-After": str(max(1, math.ceil(retry_after_seconds)))},
        )


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
def _hash_slots() -> anyio.CapacityLimiter:
    """Who may hash now; waited for with a deadline."""
    return anyio.CapacityLimiter(get_auth_settings().password_hash_concurrency)


@cache
def _hash_threads() -> anyio.CapacityLimiter:
    """The threads the hashes run in, as many as the slots: never waited for, and apart from
    the threadpool that synchronous routes share."""
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


async def _in_hash_slot(work: Callable[[], T]) -> T:
    """Run `work` in a hashing thread once a slot is free; PasswordHashingBusy when none comes
    free within PASSWORD_HASH_QUEUE_SECONDS."""
    slots = _hash_slots()
    waited = get_auth_settings().password_hash_queue_seconds
    acquired = False
    with anyio.move_on_after(waited):
        await slots.acquire()
        acquired = True
    if not acquired:
        raise PasswordHashingBusy(waited)
    try:
        return await anyio.to_thread.run_sync(work, limiter=_hash_threads())
    finally:
        slots.release()


async def hash_password_async(password: str) -> str:
    return await _in_hash_slot(lambda: hash_password(password))


async def verify_password_async(hashed: str | None, password: str) -> bool:
    return await _in_hash_slot(lambda: verify_password(hashed, password))


def reset_password_caches() -> None:
    """Forget the hasher built from settings (tests change the argon2 profile)."""
    for cached in (password_hasher, _hash_slots, _hash_threads, _dummy_hash):
        cached.cache_clear()
