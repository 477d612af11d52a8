"""User routes under /api/v1/users: one's own profile, and administration (admin scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from auth.dependencies import Admin, CurrentUser, SessionRevoker
from shared.database import SessionDep
from shared.openapi import error_responses
from shared.pagination import DEFAULT_PAGE_SIZE, Cursor, Limit, Page, decode_cursor, page_of
from users.dependencies import ValidUser
from users.schemas import UserAdminUpdate, UserProfileUpdate, UserPublic
from users.service import user_service

router = APIRouter(prefix="/users", tags=["users"])

SIGNED_IN: dict[int | str, dict[str, Any]] = error_responses(400, 401, 422)
ADMIN_ONLY: dict[int | str, dict[str, Any]] = error_responses(401, 403, 422)


@router.patch("/me", response_model=UserPublic, responses=SIGNED_IN, summary="Update your profile")
def update_me(user: CurrentUser, changes: UserProfileUpdate, session: SessionDep) -> UserPublic:
    return UserPublic.model_validate(
        user_service.update_profile(session, user=user, changes=changes)
    )


@router.get("/", response_model=Page[UserPublic], responses=ADMIN_ONLY, summary="List users")
def list_users(
    _admin: Admin, session: SessionDep, limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> Page[UserPublic]:
    users, has_more = user_service.list_page(session, limit=limit, before_id=decode_cursor(cursor))
    return page_of(users, schema=UserPublic, limit=limit, has_more=has_more)


@router.get(
    "/{user_id}",
    response_model=UserPublic,
    responses=error_responses(401, 403, 404, 422),
    summary="Fetch a user",
)
def get_user(_admin: Admin, user: ValidUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses=error_responses(400, 401, 403, 404, 422),
    summary="Change a user (deactivating ends all their sessions)",
)
def update_user(
    admin: Admin,
    user: ValidUser,
    changes: UserAdminUpdate,
    session: SessionDep,
    revoke_sessions: SessionRevoker,
) -> UserPublic:
    updated = user_service.admin_update(
        session, user=user, changes=changes, acting_user=admin, revoke_sessions=revoke_sessions
    )
    return UserPublic.model_validate(updated)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422),
    summary="Delete a user and their recipes",
)
def delete_user(admin: Admin, user: ValidUser, session: SessionDep) -> Response:
    user_service.delete_user(session, user=user, acting_user=admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
