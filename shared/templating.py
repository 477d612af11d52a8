"""Where the shared page templates (the base layout every page extends) and assets live."""

from pathlib import Path

SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"
