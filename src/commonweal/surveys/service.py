"""Survey services: waves (create, list, update, delete), importing responses as one transaction,
scoring them with the psychometrics library and storing the scores.

Every function is keyword-only, takes the session and filters by ``organisation_id``;
``get_survey_or_raise`` raises :class:`NotFoundError` for another organisation's wave too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from commonweal.analytics.surveys import (
    Instrument,
    instrument_from_dict,
    instrument_to_dict,
    load_instrument,
)
from commonweal.errors import CommonwealError, InputError, NotFoundError, Problem
from commonweal.registry import service as registry_service
from commonweal.registry.models import Consent, Member
from commonweal.registry.vocab import ConsentPurpose
from commonweal.surveys.models import InstrumentSource, Survey, SurveyResponse, SurveyScore
from commonweal.surveys.schemas import SurveyCreate, SurveyUpdate

if TYPE_CHECKING:
    # polars and the scoring/readers are imported where used: the web app and the CLI import this
    # module at start-up
    import polars as pl

    from commonweal.analytics.surveys import ScoreResult

__all__ = [
    "FORMATS",
    "ImportReport",
    "delete_survey",
    "get_survey",
    "get_survey_or_raise",
    "import_responses",
    "instrument_of",
    "list_responses",
    "list_scores",
    "list_surveys",
    "research_refused",
    "response_counts",
    "score_survey",
    "create_survey",
    "update_survey",
]

Format = Literal["csv", "kobo", "redcap"]
FORMATS: tuple[Format, ...] = ("csv", "kobo", "redcap")
# Columns that name the respondent / the submission time in plain, Kobo/ODK and REDCap exports
# (the first one present is used unless the caller names one).
RESPONDENT_COLUMNS = ("respondent", "respondent_id", "id", "record_id", "_uuid", "KEY",
                      "meta/instanceID", "instanceID", "_id")
SUBMITTED_COLUMNS = ("submitted_at", "_submission_time", "SubmissionDate", "end")
# REDCap survey exports name it ``<instrument>_timestamp`` and write "[not completed]" when empty
MEMBER_COLUMN = "member"  # the member's external id in the wave's community


@dataclass(frozen=True)
class ImportReport:
    """What an import stored: responses, scores, and the per-subscale summary of the library."""

    survey_id: int
    file: str
    responses: int
    scores: int
    linked_to_members: int
    attributes: tuple[str, ...]
    summaries: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"survey_id": self.survey_id, "file": self.file, "responses": self.responses,
                "scores": self.scores, "linked_to_members": self.linked_to_members,
                "attributes": list(self.attributes), "summaries": self.summaries}


# waves --------------------------------------------------------------------------------------------
def _definition(data: SurveyCreate) -> tuple[str, InstrumentSource, dict[str, Any]]:
    if data.instrument_id is not None:
        inst = load_instrument(data.instrument_id)
        return inst.id, InstrumentSource.bundled, instrument_to_dict(inst)
    doc = dict(data.instrument_definition or {})
    inst = instrument_from_dict(doc, "instrument_definition")
    return inst.id, InstrumentSource.uploaded, doc


def instrument_of(survey: Survey) -> Instrument:
    """The wave's instrument, rebuilt from the definition stored with it."""
    return instrument_from_dict(survey.instrument_definition, f"survey {survey.id} instrument")


def create_survey(session: Session, *, organisation_id: int, community_id: int,
                  data: SurveyCreate) -> Survey:
    """Create a wave of ``community_id``; the instrument definition is validated and stored."""
    registry_service.get_community_or_raise(session, organisation_id=organisation_id,
                                            community_id=community_id)
    iid, source, doc = _definition(data)
    s = Survey(organisation_id=organisation_id, community_id=community_id, title=data.title,
               instrument_id=iid, instrument_source=source, instrument_definition=doc,
               opens_on=data.opens_on, closes_on=data.closes_on, status=data.status,
               anonymous=data.anonymous)
    session.add(s)
    session.flush()
    return s


def list_surveys(session: Session, *, organisation_id: int, community_id: int) -> list[Survey]:
    """The waves of a community, newest opening date first (undated waves last)."""
    registry_service.get_community_or_raise(session, organisation_id=organisation_id,
                                            community_id=community_id)
    return list(session.scalars(
        select(Survey).where(Survey.organisation_id == organisation_id,
                             Survey.community_id == community_id)
        .order_by(Survey.opens_on.desc().nulls_last(), Survey.id.desc())))


def get_survey(session: Session, *, organisation_id: int, survey_id: int) -> Survey | None:
    """The wave ``survey_id`` of this organisation, or None (also for another organisation's)."""
    s = session.get(Survey, survey_id)
    return s if s is not None and s.organisation_id == organisation_id else None


def get_survey_or_raise(session: Session, *, organisation_id: int, survey_id: int) -> Survey:
    """The wave, or :class:`NotFoundError` (also for another organisation's wave)."""
    s = get_survey(session, organisation_id=organisation_id, survey_id=survey_id)
    if s is None:
        raise NotFoundError(f"no survey {survey_id}")
    return s


def update_survey(session: Session, *, organisation_id: int, survey_id: int,
                  data: SurveyUpdate) -> Survey:
    """Change the title, dates or status of a wave (the instrument never changes)."""
    s = get_survey_or_raise(session, organisation_id=organisation_id, survey_id=survey_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(s, key, value)
    if s.opens_on is not None and s.closes_on is not None and s.closes_on < s.opens_on:
        raise InputError("closes_on is before opens_on")
    session.flush()
    return s


def delete_survey(session: Session, *, organisation_id: int, survey_id: int) -> None:
    """Delete a wave with its responses and scores (rows are removed, not flagged)."""
    s = get_survey_or_raise(session, organisation_id=organisation_id, survey_id=survey_id)
    session.execute(delete(SurveyScore).where(SurveyScore.survey_id == s.id))
    session.execute(delete(SurveyResponse).where(SurveyResponse.survey_id == s.id))
    session.delete(s)
    session.flush()


def response_counts(session: Session, *, organisation_id: int, survey_id: int) -> dict[str, int]:
    """Responses of a wave in total, by channel, and how many are linked to members."""
    rows = session.execute(
        select(SurveyResponse.channel, func.count(), func.count(SurveyResponse.member_id))
        .where(SurveyResponse.organisation_id == organisation_id,
               SurveyResponse.survey_id == survey_id)
        .group_by(SurveyResponse.channel)).all()
    out = {"total": sum(r[1] for r in rows), "linked_to_members": sum(r[2] for r in rows)}
    out.update({f"channel:{r[0]}": r[1] for r in rows})
    return out


# import -------------------------------------------------------------------------------------------
def _read(path: Path, fmt: Format, inst: Instrument, label: str) -> pl.DataFrame:
    import polars as pl

    from commonweal.analytics.surveys import read_kobo_responses, read_redcap_responses

    if fmt == "kobo":
        return read_kobo_responses(path, inst)
    if fmt == "redcap":
        return read_redcap_responses(path, inst)
    try:
        return pl.read_csv(path, infer_schema_length=None, encoding="utf8-lossy")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise InputError(f"cannot read {label} as CSV",
                         [Problem(str(exc).splitlines()[0], file=label)]) from exc


def _pick(frame: pl.DataFrame, given: str | None, candidates: Sequence[str], label: str,
          what: str) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise InputError(f"{label}: no {what} column {given!r}",
                             [Problem(f"column {given!r} not found", file=label, row=1,
                                      field=given)])
        return given
    return next((c for c in candidates if c in frame.columns), None)


def _when(value: object, label: str, row: int, col: str,
          problems: list[Problem]) -> dt.datetime | None:
    if value is None or str(value).strip() == "" or str(value).startswith("["):
        return None
    if isinstance(value, dt.datetime):
        when = value
    else:
        try:
            when = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            problems.append(Problem(f"{value!r} is not an ISO 8601 date-time", file=label,
                                    row=row, field=col))
            return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _json_value(v: object) -> object:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def _store_scores(session: Session, survey: Survey, response_ids: Sequence[int],
                  result: ScoreResult) -> int:
    rows = result.scores.to_dicts()
    objs: list[dict[str, Any]] = []
    for rid, row in zip(response_ids, rows, strict=True):
        for sub in (s.subscale for s in result.summaries):
            objs.append({"organisation_id": survey.organisation_id, "survey_id": survey.id,
                         "response_id": rid, "subscale": sub, "value": row[sub],
                         "band": row.get(f"{sub}_band"), "rule": row[f"{sub}_rule"],
                         "answered": int(row[f"{sub}_answered"])})
    if objs:  # one executemany, not one ORM object per score
        session.execute(insert(SurveyScore), objs)
    return len(objs)


def import_responses(
    session: Session,
    *,
    organisation_id: int,
    survey_id: int,
    path: str | Path,
    fmt: Format = "csv",
    label: str | None = None,
    respondent_column: str | None = None,
    channel: str | None = None,
) -> ImportReport:
    """Validate, store and score a file of responses: all rows or none.

    Item values are validated by the library's readers and :func:`score_responses` (errors name
    the row, header = row 1, and the column). Other checks here, also located: an unknown member
    (column ``member``, the member's external id), a member link in an anonymous wave, a
    respondent key that repeats or is already in the wave, an unreadable submission time. Other
    columns are stored as respondent attributes (used to group the invariance analysis).
    """
    from commonweal.analytics.surveys import score_responses

    survey = get_survey_or_raise(session, organisation_id=organisation_id, survey_id=survey_id)
    p = Path(path)
    label = label or p.name
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}")
    inst = instrument_of(survey)
    frame = _read(p, fmt, inst, label)
    frame = frame.drop([c for c in frame.columns if not c.strip()])  # R/pandas row-index column
    others = [c for c in frame.columns if c not in inst.item_ids]
    result = score_responses(inst, frame, keep=others, file=label)
    key_col = _pick(frame, respondent_column, RESPONDENT_COLUMNS, label, "respondent")
    time_col = _pick(frame, None, SUBMITTED_COLUMNS, label, "submission time") or next(
        (c for c in frame.columns if c.endswith("_timestamp")), None)
    member_col = MEMBER_COLUMN if MEMBER_COLUMN in frame.columns else None
    problems: list[Problem] = []
    if member_col is not None and survey.anonymous and frame[member_col].drop_nulls().len():
        problems.append(Problem("this wave is anonymous: responses cannot be linked to members",
                                file=label, row=1, field=member_col))
    members: dict[str, int] = {}
    if member_col is not None and not survey.anonymous:
        wanted = {str(v) for v in frame[member_col].drop_nulls().to_list()}
        members = dict(session.execute(
            select(Member.external_id, Member.id).where(
                Member.organisation_id == organisation_id,
                Member.community_id == survey.community_id,
                Member.external_id.in_(wanted))).all()) if wanted else {}
    existing = set(session.scalars(select(SurveyResponse.respondent_key).where(
        SurveyResponse.survey_id == survey.id)))
    attr_cols = [c for c in others if c not in {key_col, time_col, member_col}]
    seen: set[str] = set()
    batch = uuid.uuid4().hex[:8]
    responses: list[dict[str, Any]] = []
    linked = 0
    for i, row in enumerate(frame.iter_rows(named=True)):
        r = i + 2
        raw_key = row[key_col] if key_col is not None else None
        key = str(raw_key).strip() if raw_key is not None and str(raw_key).strip() else ""
        if not key:
            if key_col is not None:
                problems.append(Problem("empty respondent key", file=label, row=r,
                                        field=key_col))
            key = f"{batch}-{r}"
        elif len(key) > 100:
            problems.append(Problem("respondent key longer than 100 characters", file=label,
                                    row=r, field=key_col))
        elif key in seen or key in existing:
            where = "this file" if key in seen else "this wave"
            problems.append(Problem(f"respondent {key!r} appears twice ({where})", file=label,
                                    row=r, field=key_col))
        seen.add(key)
        member_id = None
        if member_col is not None and not survey.anonymous and row[member_col] is not None:
            member_id = members.get(str(row[member_col]))
            if member_id is None:
                problems.append(Problem(f"no member {row[member_col]!r} in this community",
                                        file=label, row=r, field=member_col))
            else:
                linked += 1
        submitted = _when(row[time_col], label, r, time_col, problems) if time_col else None
        responses.append({
            "organisation_id": organisation_id, "survey_id": survey.id, "member_id": member_id,
            "respondent_key": key, "submitted_at": submitted, "channel": channel or fmt,
            "answers": {it: _json_value(row[it]) for it in inst.item_ids},
            "attributes": {c: _json_value(row[c]) for c in attr_cols}})
    if problems:
        raise InputError(f"{label}: {len(problems)} problem(s); nothing was imported", problems)
    ids = list(session.scalars(
        insert(SurveyResponse).returning(SurveyResponse.id, sort_by_parameter_order=True),
        responses)) if responses else []
    n_scores = _store_scores(session, survey, ids, result)
    session.flush()
    return ImportReport(survey.id, label, len(responses), n_scores, linked, tuple(attr_cols),
                        [s.to_dict() for s in result.summaries])


# scores -------------------------------------------------------------------------------------------
def answers_frame(session: Session, survey: Survey,
                  attributes: Sequence[str] = ()) -> tuple[list[int], pl.DataFrame]:
    """Response ids and a frame of the stored answers (item columns, then ``attributes``)."""
    import polars as pl

    inst = instrument_of(survey)
    rows = session.execute(
        select(SurveyResponse.id, SurveyResponse.answers, SurveyResponse.attributes)
        .where(SurveyResponse.organisation_id == survey.organisation_id,
               SurveyResponse.survey_id == survey.id).order_by(SurveyResponse.id)).all()
    cols: dict[str, pl.Series] = {
        it: pl.Series(it, [r[1].get(it) for r in rows], dtype=pl.Float64)
        for it in inst.item_ids}
    for a in attributes:
        if a not in cols:
            values = [r[2].get(a) for r in rows]
            cols[a] = pl.Series(a, [None if v is None else str(v) for v in values],
                                dtype=pl.String)
    return [r[0] for r in rows], pl.DataFrame(list(cols.values()))


def score_survey(session: Session, *, organisation_id: int, survey_id: int) -> int:
    """Re-score every stored response of a wave (replacing its scores); returns scores stored."""
    from commonweal.analytics.surveys import score_responses

    survey = get_survey_or_raise(session, organisation_id=organisation_id, survey_id=survey_id)
    ids, frame = answers_frame(session, survey)
    session.execute(delete(SurveyScore).where(SurveyScore.survey_id == survey.id))
    if not ids:
        return 0
    inst = instrument_of(survey)
    try:
        result = score_responses(inst, frame, file="stored answers")
    except CommonwealError as exc:  # stored answers were validated on import: a broken row
        raise InputError(f"survey {survey.id}: stored answers no longer score: {exc.message}",
                         getattr(exc, "problems", None)) from exc
    n = _store_scores(session, survey, ids, result)
    session.flush()
    return n


def research_refused(session: Session, *, organisation_id: int, survey_id: int) -> set[int]:
    """Members linked to responses of the wave whose consent in force for research is refused."""
    linked = select(SurveyResponse.member_id).where(
        SurveyResponse.organisation_id == organisation_id, SurveyResponse.survey_id == survey_id,
        SurveyResponse.member_id.is_not(None))
    latest: dict[int, bool] = {}
    for member_id, granted in session.execute(
            select(Consent.member_id, Consent.granted)
            .where(Consent.organisation_id == organisation_id,
                   Consent.purpose == ConsentPurpose.research, Consent.member_id.in_(linked))
            .order_by(Consent.recorded_at, Consent.id)):
        latest[member_id] = granted
    return {m for m, granted in latest.items() if not granted}


def list_responses(session: Session, *, organisation_id: int, survey_id: int, limit: int = 50,
                   offset: int = 0, for_research: bool = False
                   ) -> tuple[list[SurveyResponse], int]:
    """Responses of a wave by id. ``for_research`` leaves out the responses of members who
    refused consent for research (unlinked and anonymous responses stay)."""
    survey = get_survey_or_raise(session, organisation_id=organisation_id, survey_id=survey_id)
    where: tuple[Any, ...] = (SurveyResponse.organisation_id == organisation_id,
                              SurveyResponse.survey_id == survey.id)
    if for_research:
        refused = research_refused(session, organisation_id=organisation_id,
                                   survey_id=survey.id)
        if refused:
            where += ((SurveyResponse.member_id.is_(None))
                      | SurveyResponse.member_id.not_in(refused),)
    total = session.scalar(select(func.count()).select_from(SurveyResponse).where(*where)) or 0
    rows = session.scalars(select(SurveyResponse).where(*where).order_by(SurveyResponse.id)
                           .limit(limit).offset(offset))
    return list(rows), total


def list_scores(session: Session, *, organisation_id: int, survey_id: int, limit: int = 50,
                offset: int = 0, for_research: bool = False
                ) -> tuple[list[tuple[SurveyScore, SurveyResponse]], int]:
    """Scores of a wave with their response, ``limit`` responses at a time."""
    responses, total = list_responses(session, organisation_id=organisation_id,
                                      survey_id=survey_id, limit=limit, offset=offset,
                                      for_research=for_research)
    by_id = {r.id: r for r in responses}
    scores = session.scalars(select(SurveyScore).where(
        SurveyScore.organisation_id == organisation_id,
        SurveyScore.response_id.in_(list(by_id))).order_by(SurveyScore.response_id,
                                                            SurveyScore.id))
    return [(s, by_id[s.response_id]) for s in scores], total
