"""The sign-in check at driver level, for read routes that only need a signed-in caller.

`authenticate` (auth/dependencies.py) loads the user and the login session as ORM objects
through a pooled `Session`: the routes that change accounts or recipes need those objects. A
route that only needs to know the caller is signed in pays for none of that: one SELECT through
the process's `shared.reads.Reader` on the event loop reads the three facts the rule needs, on
every request, so a revoked session or a deactivated user is refused on the very next one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from auth.service import CredentialsRejected, session_is_live
from auth.tokens import AccessClaims
from shared.reads import Reader

_LOGIN_STATE = {
    "sqlite": (
        'SELECT s.revoked_at, s.expires_at, u.is_active FROM login_session AS s JOIN "user" AS u'
        " ON u.id = s.user_id WHERE s.id = ? AND s.user_id = ?"
    ),
    "postgresql": (
        'SELECT s.revoked_at, s.expires_at, u.is_active FROM login_session AS s JOIN "user" AS u'
        " ON u.id = s.user_id WHERE s.id = %s AND s.user_id = %s"
    ),
}


def _utc(value: datetime | str) -> datetime:
    # SQLite hands back the stored text of a naive UTC time; PostgreSQL an aware datetime.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def check_login_session(reader: Reader, claims: AccessClaims) -> None:
    """CredentialsRejected unless the token's login session is live and its user active.

    The same rule as `auth.service.load_session_user`, without loading objects.
    """
    rows = await reader.fetch(_LOGIN_STATE[reader.dialect], (claims.session_id, claims.user_id))
    if not rows:
        raise CredentialsRejected
    revoked_at, expires_at, is_active = rows[0]
    if not session_is_live(
        revoked_at=None if revoked_at is None else _utc(revoked_at),
        expires_at=_utc(expires_at),
        user_active=bool(is_active),
    ):
        raise CredentialsRejected
