"""Single-use-link answers run by the group committer: in one shared transaction, a token used
twice wins once, need-help still raises exactly one alert, and every other answer is stored."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commonweal.checkins import safety as safety_svc
from commonweal.checkins.links import issue_link
from commonweal.checkins.models import Alert, LinkPurpose, SafetyStatus, SafetyTarget
from commonweal.checkins.routes import mark_by_link
from commonweal.db.engine import transaction
from commonweal.db.groupcommit import GroupCommitter
from commonweal.errors import ConflictError, NotFoundError
from tests.db.test_groupcommit import _held

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def test_link_answers_in_one_batch(world) -> None:  # type: ignore[no-untyped-def]
    with transaction(world.factory) as s:
        check = safety_svc.create_safety_check(
            s, organisation_id=world.org_a, community_id=world.community_a, title="Flood",
            message="Are you safe?", selector={"kind": "community"}, now=NOW, channels=())
        targets = s.scalars(select(SafetyTarget).where(
            SafetyTarget.safety_check_id == check.id).order_by(SafetyTarget.id)).all()
        tokens = [issue_link(s, organisation_id=world.org_a, purpose=LinkPurpose.safety,
                             ref_id=t.id, member_id=t.member_id, now=NOW) for t in targets]
        answer_token = issue_link(s, organisation_id=world.org_a, purpose=LinkPurpose.answer,
                                  ref_id=targets[0].id, now=NOW)
    assert len(tokens) >= 3
    committer = GroupCommitter(world.factory)

    def mark(token: str, status: SafetyStatus):  # type: ignore[no-untyped-def]
        return committer.submit(lambda s: mark_by_link(s, token, status, NOW))

    try:
        release, _ = _held(committer)
        twice = [mark(tokens[0], SafetyStatus.safe) for _ in range(3)]
        help_ = mark(tokens[1], SafetyStatus.need_help)
        rest = [mark(t, SafetyStatus.safe) for t in tokens[2:]]
        wrong_purpose = mark(answer_token, SafetyStatus.safe)
        unknown = mark("not-a-real-token-at-all", SafetyStatus.safe)
        release.set()
        outcomes = []
        for f in twice:
            try:
                outcomes.append(f.result(10)["recorded"])
            except ConflictError:
                outcomes.append("used")
        assert sorted(outcomes, key=str) == [True, "used", "used"]
        assert help_.result(10) == {"recorded": True, "status": "need_help"}
        assert all(f.result(10)["recorded"] for f in rest)
        for f in (wrong_purpose, unknown):
            with pytest.raises(NotFoundError):
                f.result(10)
    finally:
        committer.close()
    with transaction(world.factory) as s:
        status = dict(s.execute(select(SafetyTarget.id, SafetyTarget.status).where(
            SafetyTarget.safety_check_id == check.id)).all())
        assert status[targets[1].id] == SafetyStatus.need_help
        assert all(status[t.id] == SafetyStatus.safe for t in targets if t.id != targets[1].id)
        marked_by = s.scalar(select(SafetyTarget.marked_by_member_id).where(
            SafetyTarget.id == targets[0].id))
        assert marked_by == targets[0].member_id  # who marked is kept
        alerts = s.scalars(select(Alert).where(Alert.safety_target_id == targets[1].id)).all()
        assert len(alerts) == 1 and alerts[0].reason == "safety_need_help"
