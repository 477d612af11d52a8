"""Which Larder account a single sign-on identity signs in to.

- A linked identity (provider, subject) signs in to its user, whatever email the provider
  reports today.
- Otherwise the provider must report an email and mark it verified. An unverified email never
  links to an existing account (anyone can type any address at some providers) and never
  creates one (it would squat on an address its owner may sign up with later).
- A verified email that matches an account links the identity to it; one that matches none
  creates an account without a password (password reset can set one later).
- Deactivated users are refused, and nothing is linked to them.
- A superuser's account is never linked by email: whoever controls that address at a provider
  (or the provider itself) must not become an administrator that way. Superusers sign in with
  their password.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from auth.models import SSOIdentity
from auth.service import IssuedTokens, grant_scopes, start_session
from auth.sso import ProviderIdentity
from shared.errors import BadRequest, Conflict
from users.models import User
from users.schemas import UserCreate
from users.service import normalise_email, user_service

logger = logging.getLogger("larder.sso")


class SignInEmailMissing(BadRequest):
    def __init__(self) -> None:
        super().__init__(
            "The provider did not share an email address; allow Larder to see it and try again"
        )


class SignInEmailUnverified(BadRequest):
    def __init__(self) -> None:
        super().__init__(
            "The provider has not verified your email address; verify it there and try again"
        )


class UnverifiedEmailInUse(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "An account with this email exists, but the provider has not verified the address, "
            "so it was not linked; sign in with your password instead"
        )


class SuperuserNotLinked(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "An administrator account has this email; single sign-on never links to it, "
            "so sign in with its password instead"
        )


class SignInAccountDeactivated(BadRequest):
    def __init__(self) -> None:
        super().__init__("This account is deactivated")


class SignInRaced(Conflict):
    def __init__(self) -> None:
        super().__init__("This account changed during sign-in; try again")


def sign_in(session: Session, *, identity: ProviderIdentity) -> IssuedTokens:
    """Find, link or create the identity's account and start a login session; commits."""
    user = linked_user(session, identity=identity)
    if user is None:
        user = _link_or_create(session, identity)
    if not user.is_active:
        raise SignInAccountDeactivated
    return start_session(
        session, user=user, scopes=grant_scopes(user, None), method=f"sso:{identity.provider}"
    )


def linked_user(session: Session, *, identity: ProviderIdentity) -> User | None:
    statement = (
        select(User)
        .join(SSOIdentity, col(SSOIdentity.user_id) == col(User.id))
        .where(
            col(SSOIdentity.provider) == identity.provider,
            col(SSOIdentity.subject) == identity.subject,
        )
    )
    return session.exec(statement).first()


def _link_or_create(session: Session, identity: ProviderIdentity) -> User:
    if identity.email is None:
        raise SignInEmailMissing
    existing = user_service.get_by_email(session, email=identity.email)
    if not identity.email_verified:
        raise UnverifiedEmailInUse if existing is not None else SignInEmailUnverified
    if existing is not None and not existing.is_active:
        raise SignInAccountDeactivated
    if existing is not None and existing.is_superuser:
        logger.warning(
            "sign-in provider %s: refused to link subject %r to superuser %s by email",
            identity.provider,
            identity.subject,
            existing.id,
        )
        raise SuperuserNotLinked
    # End the reads' transaction (PostgreSQL's; SQLite reads run outside one) so the writes
    # below are their own transaction.
    session.commit()
    try:
        user = existing or user_service.create(
            session,
            obj_in=UserCreate(
                email=identity.email, first_name=identity.given_name, surname=identity.family_name
            ),
            email=normalise_email(identity.email),
            hashed_password=None,
        )
        assert user.id is not None  # noqa: S101 - flushed
        session.add(
            SSOIdentity(
                provider=identity.provider,
                subject=identity.subject,
                user_id=user.id,
                email_at_link=normalise_email(identity.email),
            )
        )
        # The link commits with the login session (start_session), or not at all.
        session.flush()
    except IntegrityError as exc:
        # A concurrent first sign-in of this identity, or a sign-up with this email, got there
        # first; the former leaves a link to follow.
        session.rollback()
        raced = linked_user(session, identity=identity)
        if raced is None:
            raise SignInRaced from exc
        return raced
    return user
