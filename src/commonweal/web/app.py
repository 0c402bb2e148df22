"""The application factory: ``create_app(settings)`` builds everything from the one Settings object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from commonweal import __version__
from commonweal.db.engine import make_engine, make_session_factory
from commonweal.db.groupcommit import GroupCommitter
from commonweal.errors import ConfigurationError
from commonweal.settings import Settings
from commonweal.web.errors import install_error_handlers

__all__ = ["create_app"]

STATIC = Path(__file__).with_name("static")


def create_app(
    settings: Settings, *, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """Build the web application (API + pages) for ``settings``.

    ``session_factory`` lets tests (and embedders) supply their own database sessions.
    """
    if settings.environment == "production" and settings.secret_key == "dev-insecure-change-me":
        raise ConfigurationError("set COMMONWEAL_SECRET_KEY: the default key is for development")
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.group_committer.close()  # finish the answers already queued

    app = FastAPI(
        lifespan=lifespan,
        title="commonweal",
        version=__version__,
        description="Map, measure and mobilize a community's social fabric.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    if session_factory is None:
        session_factory = make_session_factory(
            make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        )
    app.state.session_factory = session_factory
    app.state.group_committer = GroupCommitter(session_factory)
    install_error_handlers(app)

    from commonweal.auth.routes import router as auth_router
    from commonweal.checkins.routes import org_router as checkins_router
    from commonweal.checkins.routes import public_router as link_router
    from commonweal.registry.routes import router as registry_router

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # Routes are matched in order: the single-use-link answers ("are you safe?") go first, as
    # they are the ones a surge hits, thousands at once.
    app.include_router(link_router)
    app.include_router(auth_router)
    app.include_router(registry_router)
    app.include_router(__import__("commonweal.mutual_aid.routes", fromlist=["router"]).router)
    app.include_router(checkins_router)
    app.include_router(__import__("commonweal.surveys.routes", fromlist=["router"]).router)
    app.include_router(__import__("commonweal.indicators.routes", fromlist=["router"]).router)
    app.include_router(__import__("commonweal.networks.routes", fromlist=["router"]).router)

    from commonweal.web.pages import install_pages

    install_pages(app)
    return app
