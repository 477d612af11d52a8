"""A generic CRUD base over a SQLModel table and its create/update schemas.

Feature services subclass it and add their own queries and rules. Methods take keyword-only
arguments so call sites read as sentences: `recipes.create(session, obj_in=data, ...)`.
Services flush; the caller (a route's unit of work) decides when to commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from shared.pagination import MAX_PAGE_SIZE

ModelT = TypeVar("ModelT", bound=SQLModel)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)

# Keys are INTEGER columns (32-bit on PostgreSQL): looking up a larger id would fail there with
# "integer out of range" instead of finding nothing.
MAX_ID = 2**31 - 1


class CRUDBase(Generic[ModelT, CreateT, UpdateT]):
    def __init__(self, model: type[ModelT]) -> None:
        self.model = model

    def get(self, session: Session, *, id: int) -> ModelT | None:
        if not 1 <= id <= MAX_ID:
            return None
        return session.get(self.model, id)

    def list_page(
        self,
        session: Session,
        *,
        limit: int,
        before_id: int | None = None,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> tuple[list[ModelT], bool]:
        """Rows newest first (highest id first), starting below `before_id`.

        Returns the rows and whether more follow.
        """
        limit = min(limit, MAX_PAGE_SIZE)
        id_column = col(self.model.id)  # type: ignore[attr-defined]
        statement = select(self.model).where(*where)
        if before_id is not None:
            # A cursor may name any 64-bit id; past the key range it means "below everything".
            statement = statement.where(id_column < min(before_id, MAX_ID))
        rows = list(session.exec(statement.order_by(id_column.desc()).limit(limit + 1)))
        return rows[:limit], len(rows) > limit

    def create(self, session: Session, *, obj_in: CreateT, **extra: Any) -> ModelT:
        obj = self.model.model_validate(obj_in, update=extra)
        session.add(obj)
        session.flush()
        return obj

    def update(self, session: Session, *, obj: ModelT, obj_in: UpdateT | dict[str, Any]) -> ModelT:
        changes = obj_in if isinstance(obj_in, dict) else obj_in.model_dump(exclude_unset=True)
        for field, value in changes.items():
            setattr(obj, field, value)
        session.add(obj)
        session.flush()
        return obj

    def delete(self, session: Session, *, obj: ModelT) -> None:
        session.delete(obj)
        session.flush()
