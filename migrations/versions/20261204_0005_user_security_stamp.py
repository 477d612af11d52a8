"""user security stamp

`user.security_stamp`: a random secret per account, replaced whenever the password is set.
Password reset tokens are bound to it. Every existing account gets its own random stamp.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 5000


def _new_stamp() -> str:
    # A copy of users.models.new_security_stamp: revisions import no application code.
    return secrets.token_urlsafe(24)


def _backfill() -> None:
    connection = op.get_bind()
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("security_stamp"))
    last_id = 0
    while True:
        ids = connection.execute(
            sa.select(user.c.id)
            .where(user.c.id > last_id)
            .order_by(user.c.id)
            .limit(BACKFILL_BATCH)
        ).scalars()
        batch = [{"row_id": row_id, "stamp": _new_stamp()} for row_id in ids]
        if not batch:
            return
        connection.execute(
            user.update()
            .where(user.c.id == sa.bindparam("row_id"))
            .values(security_stamp=sa.bindparam("stamp")),
            batch,
        )
        last_id = batch[-1]["row_id"]


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("security_stamp", sa.String(length=64), nullable=True))
    _backfill()
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("security_stamp", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("security_stamp")
