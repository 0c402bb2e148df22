"""Community indicators and composite indices: one declarative engine (NIST/OECD-style pipeline,
exact CDC SVI), verification of published indices, Monte-Carlo uncertainty and Sobol sensitivity,
change over time, and structural-vs-felt gaps.

Polars frames in, result objects out (each with ``to_dict()`` and a ``frame``). File reading lives
only in :mod:`commonweal.analytics.indicators.data`.

>>> from commonweal.analytics.indicators import load_spec, bundled_specs
>>> sorted(bundled_specs())[:2]
['bric-template', 'cdc-svi-2018-county']
"""

from commonweal.analytics.indicators.aggregate import AGGREGATIONS, aggregate
from commonweal.analytics.indicators.data import (
    read_geographies,
    read_long,
    read_table,
    read_tracr,
    read_wide,
    to_wide,
)
from commonweal.analytics.indicators.engine import IndexResult, compute, evaluate_tree, leaf_matrix
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
