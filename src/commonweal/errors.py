"""The one exception tree of commonweal.

Every error commonweal raises on purpose derives from :class:`CommonwealError`. Library code raises
the most specific class; the web layer maps each class to one HTTP status in one handler and the CLI
prints the message (never a traceback)::

    CommonwealError                      base; never raised directly
    ├── InputError          (422)        bad input; carries a list of Problem(file, row, field, message)
    │   ├── SpecError       (422)        a declarative file (instrument, index spec, model syntax) is wrong
    │   └── ImportRowsError (422)        an import found bad rows; nothing was written
    ├── NotFoundError       (404)        no such object *in the caller's organisation*
    ├── AuthenticationError (401)        not logged in, bad credentials or token
    ├── PermissionDeniedError (403)      logged in, but the role does not allow this
    ├── ConflictError       (409)        uniqueness or state conflict (duplicate name, claim taken, in flight)
    ├── AnalysisError       (422)        a computation cannot give a trustworthy answer (e.g. a CFA
    │                                    that did not converge); the message says why plainly
    └── ConfigurationError  (500-free)   settings or environment are wrong (reported at start-up)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AnalysisError",
    "AuthenticationError",
    "BusyError",
    "CommonwealError",
    "ConfigurationError",
    "ConflictError",
    "ImportRowsError",
    "InputError",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitedError",
    "SpecError",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with some input, located as precisely as we can.

    ``row`` is 1-based over data rows as a spreadsheet user counts them (the header is row 1, so the
    first data row is 2) when ``file`` is a CSV; ``None`` when not applicable.
    """

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "row": self.row, "field": self.field, "message": self.message}


class CommonwealError(Exception):
    """Root of every error commonweal raises on purpose."""

    status_code: int = 500
    retry_after: int | None = None  # seconds; sent as ``Retry-After`` when set

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(CommonwealError):
    """Input that commonweal cannot accept. ``problems`` lists each problem with its location."""

    status_code = 422

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        return f"{self.message}\n{shown}{more}"


class SpecError(InputError):
    """A declarative specification (instrument, index spec, model syntax) is malformed."""


class ImportRowsError(InputError):
    """An import found bad rows; the import was rolled back and nothing was written."""


class NotFoundError(CommonwealError):
    """The object does not exist, or not in the caller's organisation (we never say which)."""

    status_code = 404


class AuthenticationError(CommonwealError):
    status_code = 401


class PermissionDeniedError(CommonwealError):
    status_code = 403


class ConflictError(CommonwealError):
    status_code = 409


class BusyError(CommonwealError):
    """The server cannot take the work right now; nothing was done, retry after a short wait."""

    status_code = 503
    retry_after = 1


class RateLimitedError(CommonwealError):
    """Too many attempts; retry after ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class AnalysisError(CommonwealError):
    """A computation could not produce a trustworthy result; the message says why."""

    status_code = 422


class ConfigurationError(CommonwealError):
    status_code = 500
