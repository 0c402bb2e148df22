"""members.csv and groups.csv rows for a range of members or groups, as polars frames."""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

from commonweal.demo import _model as m
from commonweal.demo.names import (
    CULTURES,
    GROUP_DESCRIPTIONS,
    GROUP_TEMPLATES,
    email_slug,
    neighbourhood_name,
)
from commonweal.demo.population import PRECISIONS, Population, language_table, notes_table
from commonweal.demo.structure import Structure
from commonweal.demo.ties import member_id_expr

__all__ = ["GROUP_COLUMNS", "MEMBER_COLUMNS", "groups_frame", "members_frame"]

MEMBER_COLUMNS = (
    "external_id",
    "display_name",
    "phone",
    "email",
    "languages",
    "birth_year",
    "household",
    "lives_alone",
    "lat",
    "lon",
    "location_precision",
    "consent_contact",
    "consent_research",
    "consent_sharing",
    "notes",
)
GROUP_COLUMNS = ("external_id", "name", "kind", "description", "members")

_FIRST = [name for c in CULTURES for name in c.first_names]
_LAST = [name for c in CULTURES for name in c.surnames]
_FIRST_S, _LAST_S = pl.Series(_FIRST), pl.Series(_LAST)
_FIRST_SLUG = pl.Series([email_slug(x) for x in _FIRST])
_LAST_SLUG = pl.Series([email_slug(x) for x in _LAST])
_TWO_DIGITS = pl.Series([f"{i:02d}" for i in range(100)])
_PRECISIONS = pl.Series(PRECISIONS)
_NOTES = pl.Series(notes_table())


def _nullable(idx: NDArray[np.integer]) -> pl.Series:
    """Index series with negative values turned into nulls (gathers then give nulls)."""
    s = pl.Series(idx.astype(np.int64))
    return pl.select(pl.when(s >= 0).then(s)).to_series()


def members_frame(pop: Population, lo: int, hi: int) -> pl.DataFrame:
    """The members.csv rows of members ``lo..hi-1`` (see ``docs/formats.md``)."""
    sl = slice(lo, hi)
    idx = np.arange(lo, hi, dtype=np.int64)
    phone = pop.phone[sl]
    areas = pl.Series(list(pop.city.area_codes))
    has_phone = pl.Series(phone >= 0)
    lat, lon = pop.lat[sl], pop.lon[sl]
    raw = pl.DataFrame(
        {
            "i": idx,
            "hh": pop.household[sl].astype(np.int64),
            "first": _FIRST_S.gather(pop.first_name[sl]),
            "last": _LAST_S.gather(pop.surname[sl]),
            "first_slug": _FIRST_SLUG.gather(pop.first_name[sl]),
            "last_slug": _LAST_SLUG.gather(pop.surname[sl]),
            "area": areas.gather(np.maximum(phone, 0) // 100),
            "digits": _TWO_DIGITS.gather(np.maximum(phone, 0) % 100),
        }
    )
    by = pop.reference_year - pop.age[sl]
    return raw.select(
        member_id_expr("i").alias("external_id"),
        pl.concat_str([pl.col("first"), pl.col("last")], separator=" ").alias("display_name"),
        pl.when(has_phone)
        .then(pl.concat_str([pl.lit("+1-"), pl.col("area"), pl.lit("-555-01"), pl.col("digits")]))
        .alias("phone"),
        pl.when(pl.Series(pop.has_email[sl]))
        .then(
            pl.concat_str(
                [
                    pl.col("first_slug"),
                    pl.lit("."),
                    pl.col("last_slug"),
                    (pl.col("i") + 1).cast(pl.String),
                    pl.lit("@example.org"),
                ]
            )
        )
        .alias("email"),
        languages=pl.Series(language_table(pop.city)).gather(_nullable(pop.language[sl])),
        birth_year=pl.when(pl.Series(pop.birth_year_given[sl])).then(
            pl.Series(by.astype(np.int32))
        ),
        household=pl.concat_str([pl.lit("h"), (pl.col("hh") + 1).cast(pl.String)]),
        lives_alone=pl.Series(pop.hh_size[pop.household[sl]] == 1),
        lat=pl.Series(lat).fill_nan(None),
        lon=pl.Series(lon).fill_nan(None),
        location_precision=_PRECISIONS.gather(_nullable(pop.precision[sl])),
        consent_contact=pl.Series(pop.consent_contact[sl]),
        consent_research=pl.Series(pop.consent_research[sl]),
        consent_sharing=pl.Series(pop.consent_sharing[sl]),
        notes=_NOTES.gather(_nullable(pop.note[sl])),
    )


def group_names(pop: Population, st: Structure) -> list[str]:
    """Group names: template and neighbourhood, numbered when repeated ("Choir — Oakridge 2")."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for kind, tmpl, nb in zip(
        st.g_kind.tolist(), st.g_template.tolist(), st.g_nb.tolist(), strict=True
    ):
        base = f"{GROUP_TEMPLATES[kind][tmpl]} — {neighbourhood_name(nb)}"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base} {seen[base]}")
    return out


def groups_frame(
    pop: Population, st: Structure, names: list[str], g0: int, g1: int
) -> pl.DataFrame:
    """The groups.csv rows of groups ``g0..g1-1``; the member at ring position 0 has the role."""
    s0, s1 = int(st.g_start[g0]), int(st.g_start[g1])
    slot = np.arange(s0, s1, dtype=np.int64)
    g = np.searchsorted(st.g_start, slot, "right") - 1
    role = pl.Series(list(m.GROUP_ROLE)).gather(st.g_kind[g])
    first = pl.Series(slot == st.g_start[g])
    members = (
        pl.DataFrame({"g": g, "i": st.g_members[s0:s1].astype(np.int64)})
        .select(
            "g",
            label=pl.when(first)
            .then(pl.concat_str([member_id_expr("i"), pl.lit(":"), role]))
            .otherwise(member_id_expr("i")),
        )
        .group_by("g", maintain_order=True)
        .agg(pl.col("label").str.join(";"))
    )
    kind = st.g_kind[g0:g1]
    return pl.DataFrame(
        {
            "external_id": [f"g{i + 1}" for i in range(g0, g1)],
            "name": names[g0:g1],
            "kind": pl.Series(list(m.GROUP_KINDS)).gather(kind),
            "description": pl.Series(list(GROUP_DESCRIPTIONS)).gather(kind),
            "members": members["label"],
        }
    )
