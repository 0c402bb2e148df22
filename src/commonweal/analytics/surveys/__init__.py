"""Survey instruments, scoring and psychometrics (own ML CFA engine matching lavaan).

Pure computation: polars frames and numpy arrays in, frozen result dataclasses (with ``to_dict()``)
out. File readers live in the clearly named ``formats_*`` modules and ``instruments``.

The names below are loaded on first use (PEP 562): the web app and the CLI import this package at
start-up, and reading an instrument must not pull in SciPy (CFA, reliability, invariance) or
openpyxl (XLSForm).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commonweal._lazy import lazy_names

if TYPE_CHECKING:
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

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "CFA": "cfa",
    "CFAResult": "cfa",
    "ParameterEstimate": "cfa",
    "fit_cfa": "cfa",
    "FitMeasures": "fitmeasures",
    "read_redcap_dictionary": "formats_redcap",
    "read_redcap_responses": "formats_redcap",
    "write_redcap_dictionary": "formats_redcap",
    "read_kobo_responses": "formats_xlsform",
    "read_xlsform": "formats_xlsform",
    "write_xlsform": "formats_xlsform",
    "Instrument": "instruments",
    "instrument_from_dict": "instruments",
    "instrument_to_dict": "instruments",
    "list_instruments": "instruments",
    "load_instrument": "instruments",
    "read_conversion_table": "instruments",
    "read_instrument_file": "instruments",
    "read_item_text": "instruments",
    "InvarianceResult": "invariance",
    "InvarianceStep": "invariance",
    "measurement_invariance": "invariance",
    "AlphaResult": "reliability",
    "cronbach_alpha": "reliability",
    "build_report": "report",
    "instrument_model": "report",
    "keyed_items": "report",
    "ScoreResult": "scoring",
    "SubscaleSummary": "scoring",
    "score_responses": "scoring",
    "ModelSpec": "syntax",
    "parse_model": "syntax",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
