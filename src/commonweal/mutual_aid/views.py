"""What a caller may see of mutual-aid rows: a need's private details only when revealed."""

from __future__ import annotations

from commonweal.mutual_aid.models import AidNeed, AidOffer, CrisisReport
from commonweal.mutual_aid.schemas import (
    SENSITIVE_NEED_FIELDS,
    CrisisReportRead,
    NeedRead,
    OfferRead,
)

__all__ = ["need_read", "offer_read", "report_read", "revealed_fields"]

_PUBLIC = tuple(
    f for f in NeedRead.model_fields if f not in SENSITIVE_NEED_FIELDS and f != "revealed"
)


def need_read(need: AidNeed, *, reveal: bool) -> NeedRead:
    """The need as the caller may see it: ``area`` and the ~1 km ``approx_*`` point always; the
    address, contact, exact point and private notes only with ``reveal`` (caller audits)."""
    out = NeedRead.model_validate({f: getattr(need, f) for f in _PUBLIC})
    if reveal:
        for f in SENSITIVE_NEED_FIELDS:
            setattr(out, f, getattr(need, f))
        out.revealed = True
    return out


def revealed_fields(need: AidNeed) -> list[str]:
    """Names (never values) of the sensitive fields that hold something, for the audit log."""
    return [f for f in SENSITIVE_NEED_FIELDS if getattr(need, f) is not None]


def offer_read(offer: AidOffer, *, private: bool) -> OfferRead:
    out = OfferRead.model_validate(offer)
    if not private:
        out.lat = out.lon = None
        out.contact = None
    return out


def report_read(report: CrisisReport, *, contact: bool) -> CrisisReportRead:
    out = CrisisReportRead.model_validate(report)
    if not contact:
        out.reporter_contact = None
    return out
