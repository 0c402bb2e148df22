"""commonweal: see and strengthen a community's social fabric.

The curated public API lives in ``__all__`` (kept sorted; a test checks it).
"""

from __future__ import annotations

from commonweal.errors import (
    AnalysisError,
    CommonwealError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
)
from commonweal.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "AnalysisError",
    "CommonwealError",
    "ConflictError",
    "InputError",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
    "Settings",
    "__version__",
]
