"""Sign-in, login sessions, token rotation and revocation, password changes and resets.

Operations that complete a unit of work commit; everything else only flushes.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlmodel import Session, col, select

from auth.models import LoginSession, RefreshToken
from auth.passwords import (
    hash_password_async,
    needs_rehash,
    verify_password_async,
)
from auth.settings import get_auth_settings
from auth.tokens import (
    SCOPE_ADMIN,
    SCOPE_RECIPES_WRITE,
    AccessClaims,
    InvalidToken,
    create_access_token,
    hash_refresh_token,
    new_refresh_token,
    new_session_id,
    password_reset_binding,
    read_password_reset_token,
)
from shared.errors import BadRequest, NotAuthenticated
from shared.models import utcnow
from users.models import User, new_security_stamp
from users.service import user_service


class LoginFailed(BadRequest):
    def __init__(self) -> None:
        super().__init__("Incorrect username or password")


class InvalidRefreshToken(BadRequest):
    def __init__(self) -> None:
        super().__init__("Invalid refresh token")


class InvalidResetToken(BadRequest):
    def __init__(self) -> None:
        super().__init__("Invalid or expired password reset token")


class WrongCurrentPassword(BadRequest):
    def __init__(self) -> None:
        super().__init__("Current password is incorrect")


class CredentialsRejected(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Could not validate credentials")


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


def available_scopes(user: User) -> frozenset[str]:
    scopes = {SCOPE_RECIPES_WRITE}
    if user.is_superuser:
        scopes.add(SCOPE_ADMIN)
    return frozenset(scopes)


def scopes_allow(user: User, granted: frozenset[str], needed: Collection[str]) -> bool:
    """Whether a session granted `granted` may do what needs `needed`: the one rule for the API's
    routes and the pages alike. Every needed scope must be granted, and superuser powers need
    both the admin scope and the superuser flag (a scope outlives a demotion)."""
    if any(scope not in granted for scope in needed):
        return False
    return SCOPE_ADMIN not in needed or user.is_superuser


def grant_scopes(user: User, requested: str | None) -> frozenset[str]:
    """All the user may have when nothing is asked; otherwise only what is asked and allowed."""
    allowed = available_scopes(user)
    wanted = set((requested or "").split())
    return allowed if not wanted else allowed & wanted


def _issue(login: LoginSession, refresh_token: str) -> IssuedTokens:
    scopes = frozenset(login.scope.split())
    return IssuedTokens(
        access_token=create_access_token(user_id=login.user_id, session_id=login.id, scopes=scopes),
        refresh_token=refresh_token,
        expires_in=get_auth_settings().access_token_expire_minutes * 60,
        scope=" ".join(sorted(scopes)),
    )


def _add_refresh_token(session: Session, login: LoginSession) -> str:
    token = new_refresh_token()
    session.add(RefreshToken(session_id=login.id, token_hash=hash_refresh_token(token)))
    return token


def start_session(
    session: Session, *, user: User, scopes: frozenset[str], method: str = "password"
) -> IssuedTokens:
    """A new login session with its first refresh token; commits."""
    assert user.id is not None  # noqa: S101 - a stored user
    lifetime = timedelta(days=get_auth_settings().refresh_token_expire_days)
    login = LoginSession(
        id=new_session_id(),
        user_id=user.id,
        scope=" ".join(sorted(scopes)),
        method=method,
        expires_at=utcnow() + lifetime,
    )
    session.add(login)
    session.flush()
    refresh_token = _add_refresh_token(session, login)
    session.commit()
    return _issue(login, refresh_token)


async def login(
    session: Session,
    *,
    email: str,
    password: str,
    requested_scope: str | None,
    method: str = "password",
) -> IssuedTokens:
    """Check the password (equal work for unknown emails) and start a session.

    Raises LoginFailed, with one message for every reason, so the answer tells nothing.
    """
    user = await run_in_threadpool(_find_user_and_end_transaction, session, email)
    matches = await verify_password_async(user.hashed_password if user else None, password)
    if user is None or not matches or not user.is_active:
        raise LoginFailed
    assert user.hashed_password is not None  # noqa: S101 - it matched
    if needs_rehash(user.hashed_password):
        # The hashing profile changed since this hash was made: upgrade it now we know the
        # password.
        user.hashed_password = await hash_password_async(password)
        session.add(user)
    return await run_in_threadpool(
        start_session,
        session,
        user=user,
        scopes=grant_scopes(user, requested_scope),
        method=method,
    )


def _find_user_and_end_transaction(session: Session, email: str) -> User | None:
    user = user_service.get_by_email(session, email=email)
    # No transaction stays open while the password is hashed (PostgreSQL would hold it idle).
    session.commit()
    return user


def refresh(session: Session, *, refresh_token: str) -> IssuedTokens:
    """Spend a refresh token and issue the next pair; a spent token revokes its session."""
    row = session.exec(
        select(RefreshToken, LoginSession)
        .join(LoginSession, col(LoginSession.id) == col(RefreshToken.session_id))
        .where(col(RefreshToken.token_hash) == hash_refresh_token(refresh_token))
    ).first()
    if row is None:
        raise InvalidRefreshToken
    token, login = row
    now = utcnow()
    if token.spent_at is not None:
        _revoke_and_commit(session, login, reason="refresh_token_reused")
        raise InvalidRefreshToken
    user = session.get(User, login.user_id)
    if login.revoked_at is not None or login.expires_at <= now or user is None:
        raise InvalidRefreshToken
    if not user.is_active:
        raise InvalidRefreshToken
    spent = session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.id) == token.id, col(RefreshToken.spent_at).is_(None))
        .values(spent_at=now)
    )
    if spent.rowcount != 1:
        # Another request spent it a moment ago: the same token was presented twice.
        _revoke_and_commit(session, login, reason="refresh_token_reused")
        raise InvalidRefreshToken
    next_token = _add_refresh_token(session, login)
    session.commit()
    return _issue(login, next_token)


def _revoke_and_commit(session: Session, login: LoginSession, *, reason: str) -> None:
    revoke_session(session, session_id=login.id, reason=reason)
    session.commit()


def revoke_session(session: Session, *, session_id: str, reason: str) -> None:
    session.exec(
        update(LoginSession)
        .where(col(LoginSession.id) == session_id, col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_user_sessions(
    session: Session, *, user_id: int, reason: str, keep_session_id: str | None = None
) -> None:
    """Revoke every live session of a user (but `keep_session_id`); flushes, does not commit."""
    conditions: list[Any] = [
        col(LoginSession.user_id) == user_id,
        col(LoginSession.revoked_at).is_(None),
    ]
    if keep_session_id is not None:
        conditions.append(col(LoginSession.id) != keep_session_id)
    session.exec(
        update(LoginSession).where(*conditions).values(revoked_at=utcnow(), revoked_reason=reason)
    )


def logout(session: Session, *, session_id: str) -> None:
    revoke_session(session, session_id=session_id, reason="logout")
    session.commit()


def session_is_live(
    *, revoked_at: datetime | None, expires_at: datetime, user_active: bool
) -> bool:
    """Whether a login session still signs its user in: the one rule for every sign-in check
    (the ORM one below and the driver-level one in auth/reads.py)."""
    return revoked_at is None and expires_at > utcnow() and user_active


def load_session_user(session: Session, claims: AccessClaims) -> tuple[User, LoginSession]:
    """The user and live session an access token speaks for, or CredentialsRejected."""
    row = session.exec(
        select(User, LoginSession)
        .join(LoginSession, col(LoginSession.user_id) == col(User.id))
        .where(col(LoginSession.id) == claims.session_id, col(User.id) == claims.user_id)
    ).first()
    if row is None:
        raise CredentialsRejected
    user, login = row
    if not session_is_live(
        revoked_at=login.revoked_at, expires_at=login.expires_at, user_active=user.is_active
    ):
        raise CredentialsRejected
    return user, login


async def change_password(
    session: Session, *, user: User, current_password: str, new_password: str, keep_session_id: str
) -> None:
    if not await verify_password_async(user.hashed_password, current_password):
        raise WrongCurrentPassword
    hashed = await hash_password_async(new_password)
    await run_in_threadpool(
        _store_password, session, user, hashed, "password_changed", keep_session_id
    )


def _store_password(
    session: Session, user: User, hashed: str, reason: str, keep_session_id: str | None
) -> None:
    assert user.id is not None  # noqa: S101 - a stored user
    user.hashed_password = hashed
    user.security_stamp = new_security_stamp()
    session.add(user)
    revoke_user_sessions(session, user_id=user.id, reason=reason, keep_session_id=keep_session_id)
    session.commit()


def user_for_password_reset(session: Session, *, email: str) -> User | None:
    """The active account a reset email should go to, if there is one."""
    user = user_service.get_by_email(session, email=email)
    return user if user is not None and user.is_active else None


async def confirm_password_reset(session: Session, *, token: str, new_password: str) -> None:
    """Set a new password from a reset token; the token works once, then every session ends."""
    user = await run_in_threadpool(_user_for_reset_token, session, token)
    hashed = await hash_password_async(new_password)
    await run_in_threadpool(_store_reset_password, session, user, hashed)


def _user_for_reset_token(session: Session, token: str) -> User:
    try:
        user_id, binding = read_password_reset_token(token)
    except InvalidToken as exc:
        raise InvalidResetToken from exc
    user = user_service.get(session, id=user_id)
    if user is None or not user.is_active:
        raise InvalidResetToken
    if not hmac.compare_digest(binding, password_reset_binding(user)):
        # The password changed since the token was made (or the token was used already).
        raise InvalidResetToken
    session.commit()
    return user


def _store_reset_password(session: Session, user: User, hashed: str) -> None:
    assert user.id is not None  # noqa: S101 - a stored user
    # Compare-and-set on the stamp: of two confirmations racing with one token (or one racing
    # with a password change), one wins.
    stamp = new_security_stamp()
    stored = session.exec(
        update(User)
        .where(col(User.id) == user.id, col(User.security_stamp) == user.security_stamp)
        .values(hashed_password=hashed, security_stamp=stamp)
    )
    if stored.rowcount != 1:
        session.rollback()
        raise InvalidResetToken
    revoke_user_sessions(session, user_id=user.id, reason="password_reset")
    session.commit()
    user.hashed_password = hashed
    user.security_stamp = stamp
