"""Browser tests: Larder served by uvicorn on a loopback port, driven by Debian's Chromium.

Playwright's own browser download is not used; Chromium comes from the system
(`apt-get install chromium`). Without it these tests are skipped, except in CI (`CI` set),
where a missing browser is a failure: CI must always run them.

Data for these tests is committed (the server runs in its own thread with its own
transactions), owned by users whose email ends with BROWSER_EMAIL_DOMAIN, and deleted
afterwards (their recipes and sessions go with them).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Playwright, sync_playwright
from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from recipes.models import Recipe
from tests.factories import default_password_hash
from users.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_MESSAGE = (
    "Chromium not found at /usr/bin/chromium: browser tests skipped; apt-get install chromium"
)
# Screenshots land here (gitignored); CI can keep the folder as a build artifact.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_EMAIL_DOMAIN = "@browser-tests.example.com"
HOSTILE_LABEL = "<script>alert(1)</script>"
_STATUS_LOG = "Failed to load resource: the server responded with a status of"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail(f"{SKIP_MESSAGE} (CI must run them)", pytrace=False)
        pytest.skip(SKIP_MESSAGE)
    return CHROMIUM


@pytest.fixture(scope="session")
def server_url(engine: Engine, chromium_path: Path) -> Iterator[str]:
    """Larder (a fresh app on the test database) served by uvicorn in a background thread."""
    from main import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(), log_level="warning", loop="asyncio", lifespan="on", server_header=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start", pytrace=False)
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


# Module scope: Playwright's sync API keeps an event loop running in the main thread, which
# must be gone before tests that run their own loops (anyio) come along.
@pytest.fixture(scope="module")
def playwright_instance(chromium_path: Path) -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright, chromium_path: Path) -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    browser = playwright_instance.chromium.launch(
        executable_path=str(chromium_path), args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class Watched:
    """A page and what it did that a person would notice: dialogs, CSP refusals, errors."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def _watch(page: Page) -> Watched:
    watched = Watched(page)

    def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        # A page answered with 400 or 404 on purpose logs its status; anything else counts.
        if message.type == "error" and not message.text.startswith(_STATUS_LOG):
            watched.console_errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    return watched


@pytest.fixture
def desktop(browser: Browser, server_url: str) -> Iterator[Watched]:
    context = browser.new_context(base_url=server_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    yield _watch(context.new_page())
    context.close()


@pytest.fixture
def mobile(browser: Browser, server_url: str) -> Iterator[Watched]:
    context = browser.new_context(
        base_url=server_url,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    yield _watch(context.new_page())
    context.close()


@dataclass(frozen=True)
class BrowserData:
    cook_email: str
    password: str
    token: str
    hostile_recipe_id: int


@pytest.fixture(scope="module")
def browser_data(engine: Engine) -> Iterator[BrowserData]:
    """Committed recipes for the browser tests: a hostile label, two to search for, and 25 to
    page through (the newest)."""
    from tests.factories import DEFAULT_PASSWORD

    token = uuid.uuid4().hex[:8]
    email = f"cook-{token}{BROWSER_EMAIL_DOMAIN}"
    with Session(engine, expire_on_commit=False) as session:
        cook = User(email=email, hashed_password=default_password_hash(), first_name="Browser")
        session.add(cook)
        session.flush()
        assert cook.id is not None
        cook_id = cook.id

        def add(label: str) -> Recipe:
            recipe = Recipe(
                label=label,
                source="Larder test kitchen",
                url=f"https://example.com/{uuid.uuid4().hex}",
                submitter_id=cook_id,
            )
            session.add(recipe)
            session.flush()
            return recipe

        hostile = add(HOSTILE_LABEL)
        add(f"Saffron {token} risotto")
        add(f"Saffron {token} buns")
        for n in range(25):
            add(f"Paging pie {n:02d} {token}")
        session.commit()
        assert hostile.id is not None
        data = BrowserData(
            cook_email=email, password=DEFAULT_PASSWORD, token=token, hostile_recipe_id=hostile.id
        )
    yield data
    with Session(engine) as session:
        session.exec(delete(User).where(col(User.email).endswith(BROWSER_EMAIL_DOMAIN)))
        session.commit()
