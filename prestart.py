"""The pre-start step: wait for the database, migrate to head, seed.

Run once per deployment (`make migrate`, or `make run` locally), not in every worker:
`python -m prestart [--no-seed]`. Every step is idempotent.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from auth.passwords import hash_password
from recipes.models import Recipe
from recipes.schemas import RecipeCreate
from recipes.service import recipe_service
from shared.database import get_engine
from shared.settings import get_app_settings, get_database_settings
from users.schemas import UserCreate
from users.service import user_service

logger = logging.getLogger("larder.prestart")

ALEMBIC_INI = Path(__file__).parent / "alembic.ini"

# The original tutorial's recipes.
SEED_RECIPES = (
    RecipeCreate(
        label="Chicken Vesuvio",
        source="Serious Eats",
        url="http://www.seriouseats.com/recipes/2011/12/chicken-vesuvio-recipe.html",
    ),
    RecipeCreate(
        label="Chicken Paprikash",
        source="No Recipes",
        url="http://norecipes.com/recipe/chicken-paprikash/",
    ),
    RecipeCreate(
        label="Cauliflower and Tofu Curry Recipe",
        source="Serious Eats",
        url="http://www.seriouseats.com/recipes/2011/02/cauliflower-and-tofu-curry-recipe.html",
    ),
)


def wait_for_database(engine: Engine, *, attempts: int, delay_seconds: float) -> None:
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except OperationalError as exc:
            if attempt == attempts:
                raise SystemExit(
                    f"database not reachable after {attempts} attempts: {exc}"
                ) from exc
            logger.warning("database not ready (attempt %d/%d); retrying", attempt, attempts)
            time.sleep(delay_seconds)


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logging"] = False
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")


def seed(session: Session) -> None:
    """Create the first superuser and the tutorial's recipes, when they are absent."""
    settings = get_app_settings()
    admin = user_service.get_by_email(session, email=settings.first_superuser)
    if admin is None:
        admin = user_service.create_user(
            session,
            user_in=UserCreate(email=settings.first_superuser, first_name="Admin"),
            hashed_password=hash_password(settings.first_superuser_password),
            is_superuser=True,
        )
        logger.info("created the first superuser %s", admin.email)
    for recipe_in in SEED_RECIPES:
        existing = session.exec(
            select(Recipe.id).where(
                col(Recipe.submitter_id) == admin.id, col(Recipe.url) == recipe_in.url
            )
        ).first()
        if existing is None:
            recipe_service.create(session, obj_in=recipe_in, submitter_id=admin.id)
            logger.info("seeded recipe %r", recipe_in.label)
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-seed", action="store_true", help="migrate only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    get_app_settings()  # refuse weak production settings before touching anything
    database = get_database_settings()
    engine = get_engine()
    wait_for_database(
        engine,
        attempts=database.db_connect_retries,
        delay_seconds=database.db_connect_retry_seconds,
    )
    migrate()
    if not args.no_seed:
        with Session(get_engine(), expire_on_commit=False) as session:
            seed(session)


if __name__ == "__main__":
    main()
