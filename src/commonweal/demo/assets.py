"""The community asset inventory (assets.csv): places, facilities, equipment, vehicles, skills,
organisations, programs, funds and trust, a handful per neighbourhood.

Tangible assets sit near their neighbourhood's centre and have a condition; intangible ones have
no coordinates. Skills are stewarded by a member (the person with the skill); places by an
organisation; the rest by either.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from commonweal.demo.names import CULTURES, neighbourhood_name
from commonweal.demo.population import KM_PER_DEG_LAT, Population

__all__ = ["ASSET_COLUMNS", "assets_frame"]

ASSET_COLUMNS = (
    "external_id",
    "name",
    "tangible",
    "kind",
    "steward_member",
    "steward_org",
    "lat",
    "lon",
    "capacity",
    "availability",
    "condition",
    "notes",
)

# (kind, name, capacity range or None, availability choices, steward: "org" | "member" | "either")
_TEMPLATES: tuple[tuple[str, str, tuple[int, int] | None, tuple[str, ...], str], ...] = (
    ("place", "{nb} Park", (50, 500), ("dawn to dusk",), "org"),
    ("place", "{nb} Community Hall", (40, 200), ("weekdays 9-21", "by booking"), "org"),
    ("place", "{nb} Library branch", (20, 120), ("Tue-Sat 10-18",), "org"),
    ("place", "{nb} Interfaith Centre", (50, 400), ("weekends", "by arrangement"), "org"),
    ("facility", "Community kitchen ({nb} Hall)", (8, 30), ("weekdays 9-17", "by booking"), "org"),
    ("facility", "Cooling and warming centre ({nb})", (20, 80), ("during alerts",), "org"),
    ("facility", "Accessible laundry room ({nb})", (4, 12), ("daily 7-22",), "either"),
    ("equipment", "Portable generator", (1, 3), ("on request",), "either"),
    ("equipment", "Loan wheelchairs and walkers", (2, 10), ("weekdays 9-17",), "either"),
    ("equipment", "Tool library ({nb})", (50, 300), ("Saturdays 10-14",), "either"),
    ("equipment", "Snow blowers", (1, 4), ("winter, on request",), "member"),
    ("vehicle", "Community minibus", (8, 14), ("weekdays", "by booking"), "org"),
    ("vehicle", "Cargo bike", (1, 1), ("daylight hours",), "member"),
    ("vehicle", "Wheelchair-accessible van", (4, 6), ("by booking",), "either"),
    ("skill", "First aid", None, ("evenings", "weekends", "on call"), "member"),
    ("skill", "Interpreting ({lang})", None, ("evenings", "by arrangement"), "member"),
    ("skill", "Plumbing repairs", None, ("weekends",), "member"),
    ("skill", "Help with forms and benefits", None, ("weekday afternoons",), "member"),
    ("skill", "Computer and phone help", None, ("evenings",), "member"),
    ("skill", "Home-care nursing", None, ("by arrangement",), "member"),
    ("organisation", "{nb} Community Association", None, ("monthly meetings",), "org"),
    ("organisation", "{nb} Mutual Aid Network", None, ("always",), "member"),
    ("program", "Meals on wheels ({nb})", (10, 60), ("weekdays, lunch",), "org"),
    ("program", "Phone buddy calls", (10, 80), ("daily",), "either"),
    ("program", "Homework club", (10, 40), ("school days 15-17",), "org"),
    ("program", "Seniors' exercise class", (8, 25), ("Mon and Thu 10-11",), "org"),
    ("fund", "Neighbourhood hardship fund ({nb})", None, ("applications any time",), "org"),
    ("trust", "Trusted relationship with the housing office", None, ("",), "org"),
    ("trust", "Faith leaders' network ({nb})", None, ("",), "either"),
)
_TANGIBLE_KINDS = {"place", "facility", "equipment", "vehicle"}
_ORGS = (
    "{nb} Community Association",
    "St. Mary's Parish",
    "Islamic Centre",
    "Gurdwara Sahib",
    "Food Bank Society",
    "Housing Association",
    "Seniors' Outreach Society",
)
_OWN_ORG = {
    "{nb} Park": "City Parks",
    "{nb} Community Hall": "{nb} Community Association",
    "{nb} Library branch": "Public Library",
    "{nb} Community Association": "{nb} Community Association",
    "Homework club": "{nb} Community Association",
}
_LANGUAGE_NAMES = {
    "fr": "French",
    "zh": "Mandarin",
    "pa": "Punjabi",
    "tl": "Tagalog",
    "es": "Spanish",
    "ar": "Arabic",
    "vi": "Vietnamese",
    "so": "Somali",
    "uk": "Ukrainian",
}
_CONDITIONS = ("good", "fair", "poor", "unknown")
_NOTES = (
    "Key held by the steward",
    "Needs repair before winter",
    "Wheelchair accessible",
    "Book 48 hours ahead",
    "Insurance renewed this year",
)


def assets_frame(pop: Population, *, seed: int) -> pl.DataFrame:
    """Every asset of the community (a handful per neighbourhood), in assets.csv columns."""
    rng = np.random.default_rng([seed, 2])
    langs = [_LANGUAGE_NAMES.get(c.language, c.language) for c in CULTURES if c.language]
    coslat = np.cos(np.radians(pop.city.lat))
    steward_ok = ~(pop.isolated | pop.single_contact) & (pop.age >= 20) & (pop.age <= 75)
    rows: list[dict[str, object]] = []
    for nb in range(pop.n_neighbourhoods):
        name = neighbourhood_name(nb)
        m_lo = int(pop.hh_start[pop.nb_hh_start[nb]])
        m_hi = int(pop.hh_start[pop.nb_hh_start[nb + 1]])
        count = 6 + int(rng.poisson(4))
        for t in rng.choice(len(_TEMPLATES), size=count, replace=False):
            kind, tmpl, cap, avail, steward = _TEMPLATES[int(t)]
            tangible = kind in _TANGIBLE_KINDS
            member: str | None = None
            org: str | None = None
            if steward == "member" or (steward == "either" and rng.random() < 0.5):
                if m_hi > m_lo:
                    cand = rng.integers(m_lo, m_hi, size=16)
                    good = cand[steward_ok[cand]]
                    member = f"m{int(good[0]) + 1}" if len(good) else None
            if member is None and steward != "member":
                org = _OWN_ORG.get(tmpl) or _ORGS[int(rng.integers(len(_ORGS)))]
                org = org.format(nb=name)
            lat = lon = None
            if tangible:
                xy = pop.nb_centre_km[nb] + rng.normal(0.0, 0.25 * pop.nb_spacing_km, 2)
                lat = round(pop.city.lat + float(xy[1]) / KM_PER_DEG_LAT, 5)
                lon = round(pop.city.lon + float(xy[0]) / (KM_PER_DEG_LAT * coslat), 5)
            rows.append(
                {
                    "name": tmpl.format(nb=name, lang=langs[int(rng.integers(len(langs)))]),
                    "tangible": tangible,
                    "kind": kind,
                    "steward_member": member,
                    "steward_org": org,
                    "lat": lat,
                    "lon": lon,
                    "capacity": int(rng.integers(cap[0], cap[1] + 1)) if cap else None,
                    "availability": str(rng.choice(avail)) or None,
                    "condition": (
                        _CONDITIONS[int(rng.choice(4, p=[0.55, 0.3, 0.1, 0.05]))]
                        if tangible
                        else None
                    ),
                    "notes": _NOTES[int(rng.integers(len(_NOTES)))] if rng.random() < 0.2 else None,
                }
            )
    schema = {
        "name": pl.String,
        "tangible": pl.Boolean,
        "kind": pl.String,
        "steward_member": pl.String,
        "steward_org": pl.String,
        "lat": pl.Float64,
        "lon": pl.Float64,
        "capacity": pl.Int32,
        "availability": pl.String,
        "condition": pl.String,
        "notes": pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema)
    ids = pl.Series("external_id", [f"a{i + 1}" for i in range(frame.height)], dtype=pl.String)
    return frame.insert_column(0, ids).select(ASSET_COLUMNS)
