"""Start-up stays light: the CLI entry point, the app factory and the domain routes do not import the
heavy numeric libraries (SciPy, polars, NetworKit, OR-tools, openpyxl) until a command or a request
needs them, and `commonweal --help` does not import the database layer either.

Each check runs in a fresh interpreter and records, for every heavy library that got imported, the
innermost ``commonweal`` file whose import statement pulled it in, so a failure names the culprit.
The usual fix is an import inside the function that needs the library, or a lazy name in a package
``__init__`` (see ``commonweal.analytics.surveys``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("networkit", "openpyxl", "ortools", "polars", "scipy")
DATABASE = ("alembic", "sqlalchemy")

_WATCH = """
import json, sys, traceback

HEAVY = __HEAVY__
first = {}


class _Watch:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in first:
            files = [f.filename for f in traceback.extract_stack() if "/commonweal/" in f.filename]
            first[name] = files[-1].rsplit("/src/", 1)[-1] if files else "?"
        return None


sys.meta_path.insert(0, _Watch())
"""


def _heavy_imports(code: str, heavy: tuple[str, ...] = HEAVY) -> dict[str, str]:
    """Run ``code`` in a fresh interpreter: {heavy library: the commonweal file that imported it}."""
    watch = _WATCH.replace("__HEAVY__", repr(heavy))
    script = f"{watch}\n{code}\nprint('\\n' + json.dumps(first))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    ).stdout
    result: dict[str, str] = json.loads(out.strip().splitlines()[-1])
    return result


def test_cli_help_imports_nothing_heavy():
    code = """
sys.argv = ["commonweal", "--help"]
from commonweal.cli import main
try:
    main()
except SystemExit:
    pass
"""
    assert _heavy_imports(code, HEAVY + DATABASE) == {}


def test_domain_routes_and_vocabularies_import_nothing_heavy():
    code = """
import commonweal.analytics.indicators
import commonweal.analytics.matching
import commonweal.analytics.surveys
import commonweal.indicators.routes
import commonweal.mutual_aid.routes
import commonweal.mutual_aid.vocab
import commonweal.surveys.routes
import commonweal.web.pages_indicators
import commonweal.web.pages_mutual_aid
import commonweal.web.pages_surveys
from commonweal.analytics.matching import CATEGORIES, normalise_category
from commonweal.analytics.surveys import Instrument, load_instrument
from commonweal.analytics.indicators import IndexSpec
"""
    assert _heavy_imports(code) == {}


def test_create_app_imports_no_heavy_library():
    # every domain's analytics (SciPy, polars, NetworKit, OR-tools, openpyxl) load on first use
    code = """
from commonweal.settings import Settings
from commonweal.web.app import create_app

create_app(Settings(database_url="sqlite://"))
"""
    assert _heavy_imports(code) == {}
