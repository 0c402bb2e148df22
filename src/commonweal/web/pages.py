"""HTML pages for people (Jinja2 + HTMX), installed by ``create_app``.

The pages live in ``pages_auth`` (log in and out, start, switcher) and ``pages_registry`` (the
registry); ``pages_common`` holds the shared shell. JavaScript is vendored under ``static/vendor``
by ``scripts/vendor_js.py`` and shipped in the wheel: no CDN, no Node at install or run time.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from commonweal.web.pages_common import make_templates

__all__ = ["STATIC_DIR", "install_pages"]

STATIC_DIR = Path(__file__).with_name("static")


def install_pages(app: FastAPI) -> None:
    """Mount ``/static``, set ``app.state.templates`` (also used for error pages), add the pages."""
    from commonweal.web.pages_auth import router as auth_pages
    from commonweal.web.pages_registry import router as registry_pages

    app.state.templates = make_templates()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth_pages)
    app.include_router(registry_pages)
    app.include_router(__import__("commonweal.web.pages_checkins", fromlist=["router"]).router)
    app.include_router(__import__("commonweal.web.pages_surveys", fromlist=["router"]).router)
    app.include_router(__import__("commonweal.web.pages_mutual_aid", fromlist=["router"]).router)
    app.include_router(__import__("commonweal.web.pages_indicators", fromlist=["router"]).router)
    app.include_router(__import__("commonweal.web.pages_networks", fromlist=["router"]).router)
