"""ASGI entry point for process managers: ``uvicorn commonweal.web.asgi:app`` (settings from the
environment, read when this module is imported by the server, not by commonweal itself)."""

from commonweal.settings import Settings
from commonweal.web.app import create_app

app = create_app(Settings())
