"""Support kinds: the five named types of support plus ``unspecified``, with stable integer codes.

A tie ``from -> to`` of kind ``k`` means "from turns to to for support of kind k" (``to`` is one
of ``from``'s supporters), as in ``docs/formats.md``. Codes are ``uint8`` and index
:data:`SUPPORT_TYPES`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from commonweal.errors import InputError, Problem

__all__ = ["N_KINDS", "SUPPORT_TYPES", "UNSPECIFIED", "kind_code", "kind_codes"]

SUPPORT_TYPES: tuple[str, ...] = (
    "emotional",
    "practical",
    "financial",
    "information",
    "companionship",
    "unspecified",
)
"""The support kinds, in code order. ``unspecified`` is used when a source gives no kind."""

N_KINDS = len(SUPPORT_TYPES)
UNSPECIFIED = SUPPORT_TYPES.index("unspecified")
_CODE = {name: i for i, name in enumerate(SUPPORT_TYPES)}


def kind_code(name: str) -> int:
    """Code of a support kind name (case-insensitive; empty means ``unspecified``).

    Raises
    ------
    InputError
        If the name is not one of :data:`SUPPORT_TYPES`.
    """
    key = name.strip().lower() or "unspecified"
    try:
        return _CODE[key]
    except KeyError:
        raise InputError(
            f"unknown support type {name!r}; expected one of {', '.join(SUPPORT_TYPES)}"
        ) from None


def kind_codes(names: Iterable[str], *, file: str | None = None) -> npt.NDArray[np.uint8]:
    """Codes for many kind names; every bad value is reported with its (spreadsheet) row."""
    out: list[int] = []
    problems: list[Problem] = []
    for row, name in enumerate(names, start=2):
        key = (name or "").strip().lower() or "unspecified"
        code = _CODE.get(key)
        if code is None:
            problems.append(Problem(f"unknown support type {name!r}", file=file, row=row))
            code = 0
        out.append(code)
    if problems:
        raise InputError("unknown support types", problems)
    return np.asarray(out, dtype=np.uint8)
