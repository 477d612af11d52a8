"""Imports every feature's tables so that SQLModel.metadata is complete for Alembic.

A new feature with tables adds its `models` module here.
"""

import auth.models  # noqa: F401
import recipes.models  # noqa: F401
import users.models  # noqa: F401
