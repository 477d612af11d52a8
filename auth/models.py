"""Login sessions and their refresh tokens; identities at single sign-on providers.

Each login (password or single sign-on) creates a session with an absolute expiry. The session
carries a family of refresh tokens: every refresh spends the presented token and issues the
next one. Presenting a spent token again means it was copied, so the whole session is revoked.
Access tokens name their session (`sid`) and stop working the moment it is revoked. A session
begun on the pages' sign-in form is held by a cookie instead (see auth/browser.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models import UTCDateTime, utcnow

# The method of a session begun on the pages' sign-in form: the only sessions a page cookie may
# speak for. API sessions hand their tokens to programs, which must refresh them by rotation.
PAGE_SIGN_IN = "page"


class LoginSession(SQLModel, table=True):
    __tablename__ = "login_session"

    # Random and unguessable: it travels inside access tokens.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True, nullable=False)
    scope: str = Field(default="", max_length=512)
    # How the session began: "password" or "sso:<provider>" through the API, PAGE_SIGN_IN
    # through the pages' sign-in form.
    method: str = Field(default="password", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=64)

    @property
    def started_on_pages(self) -> bool:
        return self.method == PAGE_SIGN_IN


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(
        foreign_key="login_session.id",
        ondelete="CASCADE",
        index=True,
        nullable=False,
        max_length=64,
    )
    # SHA-256 of the token: a stolen database does not yield usable tokens.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    spent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SSOIdentity(SQLModel, table=True):
    """An account at an OpenID Connect provider, linked to a Larder user.

    Found by (provider, subject): the provider's `sub` never changes, while the email there may,
    so a linked identity keeps signing in to its user whatever the email says later.
    """

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=40)
    # OpenID Connect caps `sub` at 255 ASCII characters.
    subject: str = Field(max_length=255)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True, nullable=False)
    # The (verified) email the provider reported when the link was made: for support, not login.
    email_at_link: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
