"""Community indicators and composite indices: one declarative engine (NIST/OECD-style pipeline,
exact CDC SVI), verification of published indices, Monte-Carlo uncertainty and Sobol sensitivity,
change over time, and structural-vs-felt gaps.

Polars frames in, result objects out (each with ``to_dict()`` and a ``frame``). File reading lives
only in :mod:`commonweal.analytics.indicators.data`.

>>> from commonweal.analytics.indicators import load_spec, bundled_specs
>>> sorted(bundled_specs())[:2]
['bric-template', 'cdc-svi-2018-county']

The names below are loaded on first use (PEP 562): the web app imports this package at start-up,
and a route that only needs :class:`Alternatives` must not pull in SciPy (Sobol sensitivity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commonweal._lazy import lazy_names

if TYPE_CHECKING:
    from commonweal.analytics.indicators.aggregate import AGGREGATIONS, aggregate
    from commonweal.analytics.indicators.data import (
        read_geographies,
        read_long,
        read_table,
        read_tracr,
        read_wide,
        to_wide,
    )
    from commonweal.analytics.indicators.engine import (
        IndexResult,
        compute,
        evaluate_tree,
        leaf_matrix,
    )
    from commonweal.analytics.indicators.gap import GapResult, structural_felt_gap
    from commonweal.analytics.indicators.impute import (
        Imputation,
        Treatment,
        impute,
        impute_panel,
        treat,
    )
    from commonweal.analytics.indicators.normalise import (
        Normalisation,
        normalise,
        percent_rank,
        percentile,
        rank,
        round_values,
    )
    from commonweal.analytics.indicators.sensitivity import SensitivityResult, run_sensitivity
    from commonweal.analytics.indicators.spec import (
        Flag,
        IndexSpec,
        Indicator,
        Node,
        bundled_specs,
        load_spec,
        parse_spec,
    )
    from commonweal.analytics.indicators.trends import (
        ChangeResult,
        ComparabilityWarning,
        change,
        comparability_warnings,
        trend,
    )
    from commonweal.analytics.indicators.uncertainty import (
        Alternatives,
        UncertaintyResult,
        run_uncertainty,
    )
    from commonweal.analytics.indicators.verify import Mismatch, VerifyReport, verify

__all__ = [
    "AGGREGATIONS",
    "Alternatives",
    "ChangeResult",
    "ComparabilityWarning",
    "Flag",
    "GapResult",
    "Imputation",
    "IndexResult",
    "IndexSpec",
    "Indicator",
    "Mismatch",
    "Node",
    "Normalisation",
    "SensitivityResult",
    "Treatment",
    "UncertaintyResult",
    "VerifyReport",
    "aggregate",
    "bundled_specs",
    "change",
    "comparability_warnings",
    "compute",
    "evaluate_tree",
    "impute",
    "impute_panel",
    "leaf_matrix",
    "load_spec",
    "normalise",
    "parse_spec",
    "percent_rank",
    "percentile",
    "rank",
    "read_geographies",
    "read_long",
    "read_table",
    "read_tracr",
    "read_wide",
    "round_values",
    "run_sensitivity",
    "run_uncertainty",
    "structural_felt_gap",
    "to_wide",
    "trend",
    "treat",
    "verify",
]

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "AGGREGATIONS": "aggregate",
    "aggregate": "aggregate",
    "read_geographies": "data",
    "read_long": "data",
    "read_table": "data",
    "read_tracr": "data",
    "read_wide": "data",
    "to_wide": "data",
    "IndexResult": "engine",
    "compute": "engine",
    "evaluate_tree": "engine",
    "leaf_matrix": "engine",
    "GapResult": "gap",
    "structural_felt_gap": "gap",
    "Imputation": "impute",
    "Treatment": "impute",
    "impute": "impute",
    "impute_panel": "impute",
    "treat": "impute",
    "Normalisation": "normalise",
    "normalise": "normalise",
    "percent_rank": "normalise",
    "percentile": "normalise",
    "rank": "normalise",
    "round_values": "normalise",
    "SensitivityResult": "sensitivity",
    "run_sensitivity": "sensitivity",
    "Flag": "spec",
    "IndexSpec": "spec",
    "Indicator": "spec",
    "Node": "spec",
    "bundled_specs": "spec",
    "load_spec": "spec",
    "parse_spec": "spec",
    "ChangeResult": "trends",
    "ComparabilityWarning": "trends",
    "change": "trends",
    "comparability_warnings": "trends",
    "trend": "trends",
    "Alternatives": "uncertainty",
    "UncertaintyResult": "uncertainty",
    "run_uncertainty": "uncertainty",
    "Mismatch": "verify",
    "VerifyReport": "verify",
    "verify": "verify",
}

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
