"""Throttling of password checks, sign-ups, reset requests and single sign-on starts.

Every limit is a fixed-window counter in the application's store: in the process by default,
in Redis when `REDIS_URL` is set, so every worker sees the same counts. An attempt is counted
(reserved) with the store's atomic `hit` *before* the work it limits, and refused with 429 when
the count after its hit is over the limit, so a burst of concurrent attempts gets no more
password checks than the limit allows.

A password check (the API login, the page login, the password change) counts on two keys:

- its (account, address) pair, up to `LOGIN_MAX_FAILURES`; a success clears the pair;
- its address, whatever the account, up to `LOGIN_MAX_FAILURES_PER_ADDRESS`; a success gives
  its reservation back, so the address counts failures (and attempts in flight) only: signing
  in to one's own account between guesses neither resets this count nor uses it up.

An attempt refused for its pair gives its address reservation back (it checked nothing), and
one refused for lack of a hashing slot gives back both. Sign-ups, reset requests and sign-in
starts are counted per address before anything else happens, so a refused one leaves nothing
new in the store. An address is an IPv4 address or an IPv6 /64 (one customer's network).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Awaitable, Callable
from typing import TypeVar

from auth.passwords import PasswordHashingBusy
from auth.settings import AuthSettings, SSOSettings
from shared.errors import ServiceUnavailable, TooManyRequests
from shared.stores import Store, StoreUnavailable

T = TypeVar("T")

HOUR_SECONDS = 3600
MINUTE_SECONDS = 60


class Throttled(TooManyRequests):
    def __init__(self, retry_after_seconds: float) -> None:
        seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(
            "Too many attempts; try again later", headers={"Retry-After": str(seconds)}
        )


class ThrottleUnavailable(ServiceUnavailable):
    """The counts cannot be kept: refuse rather than let attempts through unlimited."""

    def __init__(self) -> None:
        super().__init__(
            "Sign-in is temporarily unavailable; try again shortly", headers={"Retry-After": "5"}
        )


def address_group(address: str) -> str:
    """What one client address counts as: an IPv4 address, or the /64 of an IPv6 one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def throttle_key(kind: str, address: str, account: str | None = None) -> str:
    """The counter of `kind` for an address (and an account). Hashed: the store holds no email
    addresses or client addresses."""
    parts = [address_group(address)]
    if account is not None:
        parts.append(account.strip().lower())
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return f"throttle:{kind}:{digest}"


class Throttle:
    """One limit: at most `max_attempts` per key in a fixed window."""

    def __init__(self, store: Store, *, max_attempts: int, window_seconds: int) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds

    async def reserve(self, key: str) -> None:
        """Count an attempt; refuse it (429 with Retry-After) when that makes too many."""
        try:
            count, seconds_left = await self.store.hit(key, self.window_seconds)
        except StoreUnavailable as exc:
            raise ThrottleUnavailable from exc
        if count > self.max_attempts:
            raise Throttled(seconds_left)

    async def release(self, key: str) -> None:
        """Give back an attempt that turned out not to count."""
        try:
            await self.store.release(key)
        except StoreUnavailable as exc:
            raise ThrottleUnavailable from exc

    async def clear(self, key: str) -> None:
        try:
            await self.store.delete(key)
        except StoreUnavailable as exc:
            raise ThrottleUnavailable from exc


class AccountThrottles:
    """The limits on the routes that check passwords or let anyone create state."""

    def __init__(self, store: Store, auth: AuthSettings, sso: SSOSettings) -> None:
        window = auth.login_window_seconds
        self.pairs = Throttle(store, max_attempts=auth.login_max_failures, window_seconds=window)
        self.addresses = Throttle(
            store, max_attempts=auth.login_max_failures_per_address, window_seconds=window
        )
        self.signups = Throttle(
            store, max_attempts=auth.signup_rate_per_hour, window_seconds=HOUR_SECONDS
        )
        self.reset_requests = Throttle(
            store, max_attempts=auth.password_reset_rate_per_hour, window_seconds=HOUR_SECONDS
        )
        self.sso_starts = Throttle(
            store, max_attempts=sso.sso_login_rate_per_minute, window_seconds=MINUTE_SECONDS
        )

    async def check_password(
        self, *, kind: str, account: str, address: str, check: Callable[[], Awaitable[T]]
    ) -> T:
        """Run `check`, a password check for `account` from `address`, as one attempt.

        Whatever `check` raises (a wrong password above all) leaves the attempt counted, except
        PasswordHashingBusy: no password was checked then.
        """
        address_key = throttle_key("password-address", address)
        pair_key = throttle_key(kind, address, account)
        await self.addresses.reserve(address_key)
        try:
            await self.pairs.reserve(pair_key)
        except (Throttled, ThrottleUnavailable):
            await self.addresses.release(address_key)
            raise
        try:
            result = await check()
        except PasswordHashingBusy:
            await self.pairs.release(pair_key)
            await self.addresses.release(address_key)
            raise
        await self.pairs.clear(pair_key)
        await self.addresses.release(address_key)
        return result

    async def count_signup(self, address: str) -> None:
        await self.signups.reserve(throttle_key("signup", address))

    async def count_reset_request(self, *, email: str, address: str) -> None:
        # The address first: once it is refused, random emails add no counters to the store.
        await self.reset_requests.reserve(throttle_key("reset-address", address))
        await self.pairs.reserve(throttle_key("reset", address, email))

    async def count_sso_start(self, address: str) -> None:
        await self.sso_starts.reserve(throttle_key("sso-start", address))
