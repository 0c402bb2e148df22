"""The runnable examples in the docstrings are correct."""

import doctest
import importlib

import pytest

MODULES = ["centrality", "communities", "cuts", "graph", "profile", "robustness", "summary",
           "synthetic", "whatif"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"commonweal.analytics.networks.{name}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
