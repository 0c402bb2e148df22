"""Crisis map: geo-tagged reports of urgent needs, their verification, and open exports.

Verification follows Ushahidi's review flow: every report starts ``unverified``; a dispatcher
marks it ``verified``, ``rejected`` or ``duplicate`` (of another report). Exports honour the same
filters as the map: CSV, GeoJSON (RFC 7946; coordinates are ``[lon, lat]``) and HXL-tagged CSV
(a row of HXL hashtags under the header, https://hxlstandard.org/standard/1-1final/).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonweal.errors import InputError, NotFoundError, Problem
from commonweal.mutual_aid.models import CrisisReport
from commonweal.mutual_aid.schemas import CrisisReportCreate
from commonweal.mutual_aid.vocab import Category, Channel, ReportStatus
from commonweal.registry import service as reg

__all__ = [
    "EXPORT_COLUMNS",
    "HXL_TAGS",
    "create_report",
    "get_report_or_raise",
    "list_reports",
    "reports_csv",
    "reports_geojson",
    "set_report_status",
]

#: Export columns and their HXL hashtags (HXL 1.1 core hashtags and attributes).
EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "category",
    "severity",
    "status",
    "location_name",
    "lat",
    "lon",
    "reported_at",
    "channel",
    "description",
)
HXL_TAGS: dict[str, str] = {
    "id": "#meta+id",
    "title": "#description+title",
    "category": "#sector",
    "severity": "#severity",
    "status": "#status",
    "location_name": "#loc+name",
    "lat": "#geo+lat",
    "lon": "#geo+lon",
    "reported_at": "#date+reported",
    "channel": "#meta+channel",
    "description": "#description",
}


def create_report(
    session: Session,
    *,
    organisation_id: int,
    data: CrisisReportCreate,
    channel: Channel,
    now: dt.datetime,
) -> CrisisReport:
    if data.community_id is not None:
        reg.get_community_or_raise(
            session, organisation_id=organisation_id, community_id=data.community_id
        )
    r = CrisisReport(
        organisation_id=organisation_id,
        **data.model_dump(),
        channel=channel,
        status=ReportStatus.unverified,
        reported_at=now,
    )
    session.add(r)
    session.flush()
    return r


def get_report_or_raise(session: Session, *, organisation_id: int, report_id: int) -> CrisisReport:
    r = session.get(CrisisReport, report_id)
    if r is None or r.organisation_id != organisation_id:
        raise NotFoundError(f"no crisis report {report_id}")
    return r


def set_report_status(
    session: Session,
    *,
    organisation_id: int,
    report_id: int,
    status: ReportStatus,
    by_user_id: int,
    now: dt.datetime,
    duplicate_of_id: int | None = None,
) -> CrisisReport:
    r = get_report_or_raise(session, organisation_id=organisation_id, report_id=report_id)
    if status == ReportStatus.duplicate:
        if duplicate_of_id is None or duplicate_of_id == r.id:
            raise InputError(
                "name the report this one duplicates",
                [Problem("required for status duplicate", field="duplicate_of_id")],
            )
        get_report_or_raise(session, organisation_id=organisation_id, report_id=duplicate_of_id)
    r.status, r.duplicate_of_id = (
        status,
        (duplicate_of_id if status == ReportStatus.duplicate else None),
    )
    r.verified_at, r.verified_by_user_id = now, by_user_id
    session.flush()
    return r


def list_reports(
    session: Session,
    *,
    organisation_id: int,
    community_id: int | None = None,
    statuses: Sequence[ReportStatus] | None = None,
    categories: Sequence[Category] | None = None,
    min_severity: int | None = None,
    since: dt.datetime | None = None,
    bbox: Sequence[float] | None = None,
    limit: int = 5000,
) -> Sequence[CrisisReport]:
    """Reports matching every given filter. ``bbox`` is ``(west, south, east, north)``."""
    q = select(CrisisReport).where(CrisisReport.organisation_id == organisation_id)
    if community_id is not None:
        q = q.where(CrisisReport.community_id == community_id)
    if statuses:
        q = q.where(CrisisReport.status.in_(list(statuses)))
    if categories:
        q = q.where(CrisisReport.category.in_(list(categories)))
    if min_severity is not None:
        q = q.where(CrisisReport.severity >= min_severity)
    if since is not None:
        q = q.where(CrisisReport.reported_at >= since)
    if bbox is not None:
        if len(bbox) != 4 or bbox[0] > bbox[2] or bbox[1] > bbox[3]:
            raise InputError("bbox is west,south,east,north", [Problem(str(bbox), field="bbox")])
        w, s, e, n = bbox
        q = q.where(
            CrisisReport.lon >= w,
            CrisisReport.lon <= e,
            CrisisReport.lat >= s,
            CrisisReport.lat <= n,
        )
    return session.scalars(
        q.order_by(
            CrisisReport.severity.desc(), CrisisReport.reported_at.desc(), CrisisReport.id
        ).limit(limit)
    ).all()


def _row(r: CrisisReport) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "category": str(r.category),
        "severity": r.severity,
        "status": str(r.status),
        "location_name": r.location_name or "",
        "lat": r.lat,
        "lon": r.lon,
        "reported_at": r.reported_at.isoformat(),
        "channel": str(r.channel),
        "description": r.description,
    }


def _safe(value: object) -> object:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def reports_csv(reports: Sequence[CrisisReport], *, hxl: bool = False) -> str:
    """CSV of the reports; with ``hxl=True`` a row of HXL hashtags follows the header."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EXPORT_COLUMNS)
    if hxl:
        w.writerow([HXL_TAGS[c] for c in EXPORT_COLUMNS])
    for r in reports:
        row = _row(r)
        w.writerow([_safe(row[c]) for c in EXPORT_COLUMNS])
    return buf.getvalue()


def reports_geojson(reports: Sequence[CrisisReport]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (reports without a location are left out)."""
    features = []
    for r in reports:
        if r.lat is None or r.lon is None:
            continue
        props = _row(r)
        props.pop("lat")
        props.pop("lon")
        features.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}
