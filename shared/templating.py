"""Where the shared page templates live (the base layout every page extends)."""

from pathlib import Path

SHARED_TEMPLATES = Path(__file__).parent / "templates"
