"""What each role sees of a response or a score (redaction in one place).

* admin, coordinator (``sensitive:read``): everything, including the member link, the respondent
  key and the exact submission time;
* researcher (``survey:answers`` without ``sensitive:read``): de-identified -- no member link, no
  respondent key, the submission date only;
* volunteer, member: no individual answers or scores at all (the routes refuse them).

Every read of answers or individual scores is audited by the caller (``read_sensitive``, with the
ids and field names, never the values).
"""

from __future__ import annotations

from commonweal.surveys.models import SurveyResponse, SurveyScore
from commonweal.surveys.schemas import ResponseRead, ScoreRead

__all__ = ["ANSWER_FIELDS", "IDENTIFYING_FIELDS", "response_read", "score_read"]

ANSWER_FIELDS = ("answers", "attributes")
IDENTIFYING_FIELDS = ("member_id", "respondent_key", "submitted_at")


def response_read(r: SurveyResponse, *, identified: bool) -> ResponseRead:
    """A response as the caller may see it (``identified``: admin, coordinator)."""
    return ResponseRead(
        id=r.id, survey_id=r.survey_id,
        member_id=r.member_id if identified else None,
        respondent_key=r.respondent_key if identified else None,
        submitted_at=r.submitted_at if identified else None,
        submitted_on=r.submitted_at.date() if r.submitted_at is not None else None,
        channel=r.channel, answers=dict(r.answers), attributes=dict(r.attributes))


def score_read(s: SurveyScore, r: SurveyResponse, *, identified: bool) -> ScoreRead:
    """A score with its response reference as the caller may see it."""
    return ScoreRead(
        response_id=r.id, member_id=r.member_id if identified else None,
        respondent_key=r.respondent_key if identified else None, subscale=s.subscale,
        value=s.value, band=s.band, rule=s.rule, answered=s.answered)
