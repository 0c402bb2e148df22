"""Package attributes loaded on first use (PEP 562), one implementation for every lazy package.

A package that the web app or the CLI imports at start-up, but whose names need SciPy, polars or
NetworKit, lists ``name -> submodule`` and does::

    __getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)

(with the same imports under ``if TYPE_CHECKING:`` so type checkers see the names).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, names: Mapping[str, str], public: Sequence[str]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of a lazy ``package``."""
    module = sys.modules[package]
    namespace = module.__dict__
    shadowed = frozenset(n for n, m in names.items() if n == m)
    if shadowed:
        # A function named like its submodule (``communities`` in ``.communities``): importing the
        # submodule binds the module under that name in the package; keep the function there, as
        # an eager ``from .communities import communities`` would.
        class _Package(ModuleType):
            def __setattr__(self, name: str, value: object) -> None:
                if name in shadowed and isinstance(value, ModuleType):
                    value = getattr(value, name)
                super().__setattr__(name, value)

        module.__class__ = _Package
        for name in shadowed:
            if isinstance(namespace.get(name), ModuleType):
                namespace[name] = getattr(namespace[name], name)

    def __getattr__(name: str) -> Any:
        """Import the submodule defining ``name`` on first use and cache the value."""
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *public})

    return __getattr__, __dir__
