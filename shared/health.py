"""Health routes for load balancers and orchestrators (not versioned, not under /api/v1).

- `GET /health/live`: the process is serving. It touches nothing else, so a database outage
  never gets healthy workers restarted.
- `GET /health/ready`: this worker can do its job: the database answers, its schema is at the
  latest migration, and Redis answers when it is configured. Otherwise 503, so the balancer
  sends traffic elsewhere until it recovers. Every check is bounded in time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import anyio
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shared.database import get_engine
from shared.errors import RETRY_AFTER_SECONDS
from shared.settings import get_redis_settings
from shared.stores import StoreDep

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
# The whole database check (pool checkout, connect, query) gets this long.
DATABASE_CHECK_SECONDS = 2.0
STATEMENT_TIMEOUT_MS = 1000

CheckState = Literal["ok", "unavailable", "behind", "not configured"]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    database: CheckState
    migrations: CheckState
    redis: CheckState


router = APIRouter(prefix="/health", tags=["health"])


@lru_cache
def migration_head() -> str | None:
    """The newest revision among the migration scripts (read once per process)."""
    config = Config(str(ALEMBIC_INI))
    return ScriptDirectory.from_config(config).get_current_head()


def database_revision() -> str | None:
    """The revision the database is at, asking with a short statement timeout."""
    engine = get_engine()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.rollback()
    return None if revision is None else str(revision)


async def _check_database() -> tuple[CheckState, CheckState]:
    try:
        with anyio.fail_after(DATABASE_CHECK_SECONDS):
            revision = await anyio.to_thread.run_sync(database_revision, abandon_on_cancel=True)
    except (SQLAlchemyError, OSError, TimeoutError):
        return "unavailable", "unavailable"
    return "ok", ("ok" if revision == migration_head() else "behind")


@router.get("/live", response_model=Liveness, summary="The process is serving")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The database (at the latest migration) and Redis answer",
    responses={503: {"model": Readiness, "description": "A dependency is not ready."}},
)
async def ready(store: StoreDep) -> JSONResponse:
    database, migrations = await _check_database()
    redis: CheckState = "not configured"
    if get_redis_settings().redis_url:
        redis = "ok" if await store.ping() else "unavailable"
    is_ready = database == "ok" and migrations == "ok" and redis != "unavailable"
    body = Readiness(
        status="ok" if is_ready else "unavailable",
        database=database,
        migrations=migrations,
        redis=redis,
    )
    if is_ready:
        return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})
    return JSONResponse(
        body.model_dump(),
        status_code=503,
        headers={"Cache-Control": "no-store", "Retry-After": str(RETRY_AFTER_SECONDS)},
    )
