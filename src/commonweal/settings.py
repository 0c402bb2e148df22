"""Settings: one object, built explicitly and passed in. Nothing here reads the environment at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting of commonweal. Each can be given as ``COMMONWEAL_<NAME>`` in the environment.

    Build one with ``Settings()`` (reads the environment then) or ``Settings(database_url=...)``.
    """

    model_config = SettingsConfigDict(env_prefix="COMMONWEAL_", extra="forbid")

    database_url: str = Field(
        default="sqlite:///commonweal.db",
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg://... for teams.",
    )
    secret_key: str = Field(
        default="dev-insecure-change-me",
        description="Signs session cookies and single-use links. Must be changed outside development.",
    )
    environment: Literal["development", "production", "test"] = Field(
        default="development", description="'production' refuses the default secret key."
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, description="Browser session lifetime in seconds."
    )
    cookie_secure: bool = Field(
        default=False, description="Mark session cookies Secure (set true behind HTTPS)."
    )
    page_size_max: int = Field(default=500, description="Largest page an API list may return.")
    sqlite_busy_timeout_ms: int = Field(
        default=5000, description="How long a SQLite writer waits for the lock, in milliseconds."
    )
    executor: Literal["serial", "processes", "dask"] = Field(
        default="serial", description="Backend for batch analytics (see commonweal.exec)."
    )
    dask_address: str | None = Field(
        default=None, description="Dask scheduler address; a local cluster when unset."
    )
    data_dir: Path = Field(
        default=Path("."), description="Where commonweal keeps files it writes (exports, reports)."
    )
