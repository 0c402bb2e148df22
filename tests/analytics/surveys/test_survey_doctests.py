"""The runnable examples in the survey modules' docstrings stay correct."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["cfa", "syntax", "reliability", "scoring", "simulate"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"commonweal.analytics.surveys.{name}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
