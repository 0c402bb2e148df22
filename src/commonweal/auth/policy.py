"""The one authorization layer: which role may do what. Every route and page asks here.

Permissions are coarse and named in the language of the job. A user has exactly one role per
organisation; nothing of an organisation is visible to a user with no role in it.
"""

from __future__ import annotations

from enum import StrEnum

from commonweal.auth.models import Role

__all__ = ["PERMISSIONS", "Permission", "allowed"]


class Permission(StrEnum):
    community_read = "community:read"  # communities, groups, assets (non-sensitive), overview
    member_read = "member:read"  # member list and profiles without contact/exact location, ties
    sensitive_read = "sensitive:read"  # contact channels, exact location, notes (audited)
    registry_write = "registry:write"  # create, update, delete, import
    export = "export"  # whole-community export (contains sensitive fields; audited)
    member_erase = "member:erase"  # erase a member completely
    users_manage = "users:manage"  # grant and revoke roles
    audit_read = "audit:read"
    aid_read = "aid:read"  # mutual-aid board (anonymised needs), offers, crisis map
    aid_request = "aid:request"  # post needs and crisis reports, follow one's own requests
    aid_volunteer = "aid:volunteer"  # offer help, claim needs, one's own time-bank account
    aid_dispatch = "aid:dispatch"  # match, assign, moderate, verify reports, run the ledger
    checkins_read = "checkins:read"  # check-ins, alerts and safety checks of the organisation
    checkins_respond = "checkins:respond"  # log calls, acknowledge alerts, mark people safe
    checkins_manage = "checkins:manage"  # plans, ladders, safety checks, their exports
    survey_read = "survey:read"  # survey waves, counts, aggregates (small cells suppressed)
    survey_answers = "survey:answers"  # individual answers and scores (audited)
    survey_manage = "survey:manage"  # create waves, import and score responses
    indicators_read = "indicators:read"  # geographies, indicator values, index runs (aggregates)
    indicators_manage = "indicators:manage"  # load values, run indices and uncertainty analyses


_ALL = frozenset(Permission)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: _ALL,
    Role.coordinator: frozenset(
        {
            Permission.community_read,
            Permission.member_read,
            Permission.sensitive_read,
            Permission.registry_write,
            Permission.export,
            Permission.aid_read,
            Permission.aid_request,
            Permission.aid_volunteer,
            Permission.aid_dispatch,
            Permission.checkins_read,
            Permission.checkins_respond,
            Permission.checkins_manage,
            Permission.survey_read,
            Permission.survey_answers,
            Permission.survey_manage,
            Permission.indicators_read,
            Permission.indicators_manage,
        }
    ),
    Role.volunteer: frozenset({Permission.community_read, Permission.member_read,
                               Permission.aid_read, Permission.aid_request,
                               Permission.aid_volunteer, Permission.checkins_read,
                               Permission.checkins_respond, Permission.survey_read,
                               Permission.indicators_read}),
    Role.researcher: frozenset({Permission.community_read, Permission.member_read,
                                Permission.survey_read, Permission.survey_answers,
                                Permission.indicators_read, Permission.indicators_manage}),
    Role.member: frozenset({Permission.community_read, Permission.aid_request,
                            Permission.indicators_read}),
}


def allowed(role: Role | None, permission: Permission) -> bool:
    return role is not None and permission in PERMISSIONS[role]
