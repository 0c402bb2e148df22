"""One place maps errors to HTTP: commonweal errors to their status, validation to 422, anything
unexpected to a plain 500 message without a traceback. JSON for the API, HTML for pages."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from commonweal.errors import AuthenticationError, CommonwealError, InputError

__all__ = ["install_error_handlers"]

log = logging.getLogger("commonweal.web")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


def _page(request: Request, status: int, title: str, message: str) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is not None:
        response: Response = templates.TemplateResponse(
            request,
            "error.html",
            {"title": title, "message": message, "status": status},
            status_code=status,
        )
        return response
    return HTMLResponse(f"<h1>{title}</h1><p>{message}</p>", status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CommonwealError)
    async def _commonweal(request: Request, exc: CommonwealError) -> Response:
        if _wants_html(request):
            if isinstance(exc, AuthenticationError):
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return _page(request, exc.status_code, type(exc).__name__, exc.message)
        body: dict[str, object] = {"error": type(exc).__name__, "detail": exc.message}
        if isinstance(exc, InputError):
            body["problems"] = [p.as_dict() for p in exc.problems]
        headers = ({"WWW-Authenticate": "Bearer"} if exc.status_code == 401
                   else {"Retry-After": str(exc.retry_after)} if exc.retry_after else None)
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        if _wants_html(request):
            return _page(
                request,
                422,
                "Invalid input",
                "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            )
        return JSONResponse(
            {"error": "InputError", "detail": "invalid input", "problems": problems},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request):
            return _page(
                request,
                exc.status_code,
                "Not found" if exc.status_code == 404 else "Error",
                str(exc.detail),
            )
        return JSONResponse(
            {"error": "HTTPError", "detail": exc.detail}, status_code=exc.status_code
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        msg = "Something went wrong on our side; it has been logged."
        if _wants_html(request):
            return _page(request, 500, "Server error", msg)
        return JSONResponse({"error": "ServerError", "detail": msg}, status_code=500)
