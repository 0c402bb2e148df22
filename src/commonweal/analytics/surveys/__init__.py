"""Survey instruments, scoring and psychometrics (own ML CFA engine matching lavaan).

Pure computation: polars frames and numpy arrays in, frozen result dataclasses (with ``to_dict()``)
out. File readers live in the clearly named ``formats_*`` modules and ``instruments``.
"""

from commonweal.analytics.surveys.cfa import CFA, CFAResult, ParameterEstimate, fit_cfa
from commonweal.analytics.surveys.fitmeasures import FitMeasures
from commonweal.analytics.surveys.formats_redcap import (
    read_redcap_dictionary,
    read_redcap_responses,
    write_redcap_dictionary,
)
from commonweal.analytics.surveys.formats_xlsform import (
    read_kobo_responses,
    read_xlsform,
    write_xlsform,
)
from commonweal.analytics.surveys.instruments import (
    Instrument,
    instrument_from_dict,
    instrument_to_dict,
    list_instruments,
    load_instrument,
    read_conversion_table,
    read_instrument_file,
    read_item_text,
)
from commonweal.analytics.surveys.invariance import (
    InvarianceResult,
    InvarianceStep,
    measurement_invariance,
)
from commonweal.analytics.surveys.reliability import AlphaResult, cronbach_alpha
from commonweal.analytics.surveys.report import build_report, instrument_model, keyed_items
from commonweal.analytics.surveys.scoring import ScoreResult, SubscaleSummary, score_responses
from commonweal.analytics.surveys.syntax import ModelSpec, parse_model

__all__ = [
    "CFA",
    "AlphaResult",
    "CFAResult",
    "FitMeasures",
    "Instrument",
    "InvarianceResult",
    "InvarianceStep",
    "ModelSpec",
    "ParameterEstimate",
    "ScoreResult",
    "SubscaleSummary",
    "build_report",
    "cronbach_alpha",
    "fit_cfa",
    "instrument_from_dict",
    "instrument_model",
    "instrument_to_dict",
    "keyed_items",
    "list_instruments",
    "load_instrument",
    "measurement_invariance",
    "parse_model",
    "read_conversion_table",
    "read_instrument_file",
    "read_item_text",
    "read_kobo_responses",
    "read_redcap_dictionary",
    "read_redcap_responses",
    "read_xlsform",
    "score_responses",
    "write_redcap_dictionary",
    "write_xlsform",
]
