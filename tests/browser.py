"""What the browser tests share: Debian's Chromium and its flags, the skip rules, and a live
uvicorn server on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

browser_marks = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian Chromium not installed (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="playwright is not installed (pip install playwright; never "
        "`playwright install`: the tests use /usr/bin/chromium)",
    ),
]


@contextmanager
def live_server(app: Any, *, start_timeout: float = 30) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields the base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def offline_browser(*, width: int = 1280, height: int = 900
                    ) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Debian Chromium with one browser context; yields ``(context, blocked, errors)``.

    Every request to a host other than this machine is aborted and listed in ``blocked`` (the
    pages must work offline); console errors and uncaught page errors of every page of the context
    are listed in ``errors``.
    """
    from urllib.parse import urlsplit

    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    errors: list[str] = []

    def guard(route: Any, request: Any) -> None:
        if urlsplit(request.url).hostname not in LOCAL_HOSTS:
            blocked.append(request.url)
            route.abort()
            return
        route.continue_()

    def watch(page: Any) -> None:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.route("**/*", guard)
            context.on("page", watch)
            yield context, blocked, errors
        finally:
            browser.close()


def log_in(page: Any, base: str, email: str, password: str) -> None:
    """Log in through the login form, as a person does."""
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@contextmanager
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: Any) -> Iterator[tuple[str, Any]]:
    """A file SQLite database built from the models, filled by ``seed(factory)``, served live
    (cheap password hashing, so logging in is fast); yields ``(base_url, what seed returned)``."""
    from argon2 import PasswordHasher

    from commonweal.auth import service as auth_service
    from commonweal.db.engine import make_engine, make_session_factory
    from commonweal.db.models import Base
    from commonweal.settings import Settings
    from commonweal.web.app import create_app

    monkeypatch.setattr(auth_service, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    url = f"sqlite:///{tmp_path / 'commonweal.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    try:
        made = seed(factory)
        app = create_app(Settings(database_url=url, environment="test"), session_factory=factory)
        with live_server(app) as base:
            yield base, made
    finally:
        engine.dispose()
