"""People of the demo community: households, ages, places, names, languages, contact, consent.

Everything here is drawn once for the whole community as compact numpy arrays (tens of bytes per
member), from one sequential generator seeded by ``seed``. Text columns are produced later, chunk
by chunk, by :mod:`commonweal.demo.frames`.

Model (documented for users in ``docs/demo.md``)
-------------------------------------------------
* Household sizes 1-6 with shares 28/33/16/14/6/3 % (mean 2.46 people): about 28 % of households
  are one person, close to recent census figures for Canada (29 %, 2021) and England and Wales
  (30 %, 2021).
* Household types: one-person (40 % of them aged 65+), couples (35 % of them older couples), lone
  parents with children, two-parent families, and multigenerational families with a grandparent.
  Ages follow from the type.
* Geography: ``n_neighbourhoods`` clusters of homes (Gaussian, sd 0.35 x the spacing between
  neighbourhood centres) around the city centre, on a jittered grid filling a disc whose radius
  grows with the community. Homes inside a neighbourhood are numbered along a Z-order curve, so
  consecutive households are near each other (used for neighbour ties).
* Among people aged 65+ who live alone, ``isolated_share`` (rounded to whole people) have no
  support ties at all and ``single_contact_share`` exactly one contact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from commonweal.demo.names import CULTURES, ELDER_NOTES, GENERAL_NOTES

__all__ = ["CALGARY", "City", "Population", "build_population"]

I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
B = NDArray[np.bool_]

HOUSEHOLD_SIZE_SHARES = np.array([0.28, 0.33, 0.16, 0.14, 0.06, 0.03])
PRECISIONS = ("exact", "street", "neighbourhood", "area")
_PRECISION_SHARES = np.array([0.03, 0.55, 0.35, 0.05, 0.02])  # last: no coordinates given
KM_PER_DEG_LAT = 111.32

# household types
SINGLE, COUPLE, LONE_PARENT, FAMILY, MULTIGEN = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class City:
    """Where the demo community lives: a centre in WGS84 degrees and its telephone area codes.

    The default, :data:`CALGARY`, is Calgary City Hall. Phone numbers always use the fictional
    ``555-01xx`` exchange, so they are obviously fake whatever the area code.
    """

    name: str
    lat: float
    lon: float
    area_codes: tuple[str, ...]
    main_language: str = "en"


CALGARY = City("Calgary", 51.0453, -114.0581, ("403", "587", "825"))


@dataclass(frozen=True, slots=True)
class Population:
    """Member- and household-level arrays of one demo community (internal)."""

    n: int
    reference_year: int
    city: City
    # households (sorted by neighbourhood, then along a Z-order curve)
    hh_start: I64  # n_households + 1 offsets into members
    hh_size: I32
    hh_nadult: I32  # adults occupy positions 0 .. nadult-1
    hh_nb: I32
    hh_eligible: B  # False for the household of an isolated or single-contact older adult
    nb_hh_start: I64  # n_neighbourhoods + 1 offsets into households
    nb_centre_km: F64  # (n_neighbourhoods, 2) x, y in km from the city centre
    nb_spacing_km: float
    # members
    household: I32
    age: I32
    birth_year_given: B
    culture: I32
    first_name: I32  # index into the concatenated first-name list
    surname: I32
    language: I32  # index into language_table(), -1: not given
    lat: F64  # nan: not given
    lon: F64
    precision: I32  # index into PRECISIONS, -1: not given
    phone: I32  # area-code index * 100 + last two digits, -1: none
    has_email: B
    consent_contact: B
    consent_research: B
    consent_sharing: B
    note: I32  # index into notes_table(), -1: none
    isolated: B
    single_contact: B

    @property
    def n_households(self) -> int:
        return len(self.hh_size)

    @property
    def n_neighbourhoods(self) -> int:
        return len(self.nb_hh_start) - 1


def language_table(city: City) -> list[str]:
    """``languages`` cell for each (culture, mode): 0 main only, 1 heritage;main, 2 main;heritage,
    3 heritage only."""
    out: list[str] = []
    main = city.main_language
    for c in CULTURES:
        h = c.language or main
        cells = [main, f"{h};{main}", f"{main};{h}", h]
        out.extend(main if h == main else cell for cell in cells)
    return out


def notes_table() -> list[str]:
    return [*ELDER_NOTES, *GENERAL_NOTES]


_FIRST_OFFSETS = np.cumsum([0] + [len(c.first_names) for c in CULTURES])
_LAST_OFFSETS = np.cumsum([0] + [len(c.surnames) for c in CULTURES])


def _pick(offsets: I64, culture: NDArray[np.integer], u: F64) -> I32:
    """Index into a concatenated per-culture name list: a uniform pick within the culture."""
    start = offsets[culture]
    out: I32 = (start + (u * (offsets[culture + 1] - start)).astype(np.int64)).astype(np.int32)
    return out


def _household_sizes(rng: np.random.Generator, n: int) -> I32:
    chunks: list[I32] = []
    total = 0
    while total < n:
        draw = (rng.choice(6, size=int(n / 2.46 * 1.1) + 16, p=HOUSEHOLD_SIZE_SHARES) + 1).astype(
            np.int32
        )
        chunks.append(draw)
        total += int(draw.sum())
    sizes = np.concatenate(chunks)
    cum = np.cumsum(sizes)
    n_hh = int(np.searchsorted(cum, n)) + 1
    sizes = sizes[:n_hh].copy()
    sizes[-1] -= int(cum[n_hh - 1]) - n
    return sizes


def _morton(x: F64, y: F64) -> NDArray[np.uint64]:
    """Z-order (Morton) code of points, 16 bits per axis over their bounding box."""

    def spread(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    def q(v: F64) -> NDArray[np.uint64]:
        span = float(v.max() - v.min()) or 1.0
        out: NDArray[np.uint64] = ((v - v.min()) / span * 65535.0).astype(np.uint64)
        return out

    return spread(q(x)) | (spread(q(y)) << np.uint64(1))


def _neighbourhood_centres(rng: np.random.Generator, k: int, radius_km: float) -> tuple[F64, float]:
    spacing = radius_km * math.sqrt(math.pi / k)
    half = int(math.ceil(radius_km / spacing)) + 1
    gx, gy = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1))
    pts = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float64) * spacing
    pts += rng.normal(0.0, 0.2 * spacing, size=pts.shape)
    order = np.argsort(np.hypot(pts[:, 0], pts[:, 1]), kind="stable")
    return pts[order[:k]], spacing


def build_population(
    n: int,
    *,
    seed: int,
    n_neighbourhoods: int,
    isolated_share: float,
    single_contact_share: float,
    reference_year: int,
    city: City,
) -> Population:
    """Draw the people of a community of ``n`` members (see the module docstring for the model)."""
    rng = np.random.default_rng(seed)
    sizes = _household_sizes(rng, n)
    n_hh = len(sizes)

    # --- household type and the ages of its adults
    kind = np.full(n_hh, FAMILY, dtype=np.int32)
    kind[sizes == 1] = SINGLE
    two = sizes == 2
    kind[two] = np.where(rng.random(n_hh)[two] < 0.78, COUPLE, LONE_PARENT)
    big = sizes >= 3
    kind[big] = np.where(rng.random(n_hh)[big] < 0.15, MULTIGEN, FAMILY)
    older = rng.random(n_hh)
    head = np.where(
        older < np.where(kind == SINGLE, 0.40, np.where(kind == COUPLE, 0.35, 0.0)),
        65 + np.minimum(rng.exponential(9.0, n_hh), 34),
        20 + 44 * rng.beta(1.3, 1.8, n_hh),
    )
    parents = (kind == LONE_PARENT) | (kind == FAMILY) | (kind == MULTIGEN)
    head = np.where(parents, rng.uniform(26, 56, n_hh), head).astype(np.int32)
    partner = np.maximum(18, head + np.rint(rng.normal(0, 3, n_hh))).astype(np.int32)
    elder = (head + rng.uniform(22, 36, n_hh)).astype(np.int32)
    nadult = np.where((kind == SINGLE) | (kind == LONE_PARENT), 1, 2).astype(np.int32)
    nadult = np.minimum(nadult, sizes)

    # --- geography: neighbourhoods, home coordinates (km from the centre), precision
    k = n_neighbourhoods
    radius = 1.5 + 0.012 * math.sqrt(n)
    centres, spacing = _neighbourhood_centres(rng, k, radius)
    nb_weight = rng.lognormal(0.0, 0.35, k)
    hh_nb = rng.choice(k, size=n_hh, p=nb_weight / nb_weight.sum()).astype(np.int32)
    xy = centres[hh_nb] + rng.normal(0.0, 0.35 * spacing, size=(n_hh, 2))
    precision = (rng.choice(5, size=n_hh, p=_PRECISION_SHARES) - 0).astype(np.int32)
    precision[precision == 4] = -1
    street_jitter = rng.normal(0.0, 0.03, size=(n_hh, 2))
    hh_culture = rng.choice(len(CULTURES), size=n_hh, p=[c.weight for c in CULTURES])
    hh_surname = rng.random(n_hh)

    order = np.lexsort((_morton(xy[:, 0], xy[:, 1]), hh_nb))
    sizes, kind, head, partner, elder, nadult = (
        a[order] for a in (sizes, kind, head, partner, elder, nadult)
    )
    hh_nb, xy, precision, street_jitter = (
        hh_nb[order],
        xy[order],
        precision[order],
        street_jitter[order],
    )
    hh_culture, hh_surname = hh_culture[order], hh_surname[order]
    nb_hh_start = np.searchsorted(hh_nb, np.arange(k + 1)).astype(np.int64)

    # --- members
    hh_start = np.zeros(n_hh + 1, dtype=np.int64)
    np.cumsum(sizes, out=hh_start[1:])
    household = np.repeat(np.arange(n_hh, dtype=np.int32), sizes)
    pos = np.arange(n, dtype=np.int64) - hh_start[household]
    mkind = kind[household]
    child_age = head[household] - rng.uniform(19, 43, n)
    child_age = np.where(child_age < 0, rng.uniform(0, 4, n), np.minimum(child_age, 24))
    age = np.where(
        pos == 0,
        head[household],
        np.where(
            (pos == 1) & (nadult[household] == 2),
            partner[household],
            np.where((pos == 2) & (mkind == MULTIGEN), elder[household], child_age),
        ),
    ).astype(np.int32)
    is_partner = (pos == 1) & (nadult[household] == 2)
    is_child = pos >= nadult[household]
    del pos, mkind, child_age  # member-level temporaries: keep peak memory near the result

    lives_alone = sizes[household] == 1
    older_alone = lives_alone & (age >= 65)
    # exactly round(share * count) of the older adults living alone, chosen at random
    candidates = rng.permutation(np.flatnonzero(older_alone))
    k_iso = round(isolated_share * len(candidates))
    k_one = round((isolated_share + single_contact_share) * len(candidates)) - k_iso
    isolated = np.zeros(n, dtype=np.bool_)
    isolated[candidates[:k_iso]] = True
    single_contact = np.zeros(n, dtype=np.bool_)
    single_contact[candidates[k_iso : k_iso + k_one]] = True
    hh_eligible = np.ones(n_hh, dtype=np.bool_)
    hh_eligible[household[isolated | single_contact]] = False

    # --- names and languages
    culture = hh_culture[household].astype(np.int32)
    swap = is_partner & (rng.random(n) < 0.12)
    culture[swap] = rng.choice(len(CULTURES), size=int(swap.sum()), p=[c.weight for c in CULTURES])
    # a third of children of heritage families carry an English first name
    name_culture = np.where(is_child & (rng.random(n) < 0.33), 0, culture)
    first_name = _pick(_FIRST_OFFSETS, name_culture, rng.random(n))
    del name_culture, is_child
    surname = _pick(_LAST_OFFSETS, hh_culture[household], hh_surname[household])
    own = is_partner & (rng.random(n) < 0.25)
    surname[own] = _pick(_LAST_OFFSETS, culture[own], rng.random(int(own.sum())))
    # language mode: 0 main only, 1 heritage;main, 2 main;heritage, 3 heritage only (by age group)
    mode_cum = np.cumsum(
        [[0.40, 0.10, 0.50, 0.0], [0.20, 0.35, 0.40, 0.05], [0.05, 0.55, 0.15, 0.25]], axis=1
    )
    age_group = (age >= 18).astype(np.int64) + (age >= 65)
    lu = rng.random(n)
    mode = sum((lu > mode_cum[age_group, j]).astype(np.int64) for j in range(3))
    language = (culture * 4 + np.minimum(mode, 3)).astype(np.int32)
    language[rng.random(n) < 0.03] = -1
    del age_group, lu, mode, swap, own, is_partner

    # --- places: household point, shown at the household's precision (degrees, rounded)
    lat0, coslat = city.lat, math.cos(math.radians(city.lat))
    exact = xy
    street = xy + street_jitter
    nbhd = centres[hh_nb]
    shown = np.where(
        (precision == 0)[:, None], exact, np.where((precision == 2)[:, None], nbhd, street)
    )
    hh_lat = lat0 + shown[:, 1] / KM_PER_DEG_LAT
    hh_lon = city.lon + shown[:, 0] / (KM_PER_DEG_LAT * coslat)
    decimals = np.array([6, 4, 4, 2])[np.maximum(precision, 0)]
    for d in (6, 4, 2):
        sel = decimals == d
        hh_lat[sel] = np.round(hh_lat[sel], d)
        hh_lon[sel] = np.round(hh_lon[sel], d)
    hh_lat[precision < 0] = np.nan
    hh_lon[precision < 0] = np.nan

    # --- contact details, consent, notes
    has_phone = (age >= 14) & (rng.random(n) < np.where(age >= 65, 0.92, 0.85))
    phone = np.where(
        has_phone, rng.integers(0, len(city.area_codes), n) * 100 + rng.integers(0, 100, n), -1
    ).astype(np.int32)
    has_email = (age >= 16) & (rng.random(n) < np.where(age >= 75, 0.35, 0.7))
    minor = age < 16
    consent_contact = rng.random(n) < 0.92
    consent_research = (rng.random(n) < 0.55) & ~minor
    consent_sharing = (rng.random(n) < 0.35) & ~minor
    note_u = rng.random(n)
    note = np.where(
        older_alone & (note_u < 0.35),
        rng.integers(0, len(ELDER_NOTES), n),
        np.where(
            (age >= 18) & ~older_alone & (note_u < 0.03),
            len(ELDER_NOTES) + rng.integers(0, len(GENERAL_NOTES), n),
            -1,
        ),
    ).astype(np.int32)
    birth_year_given = older_alone | (rng.random(n) >= 0.02)

    return Population(
        n=n,
        reference_year=reference_year,
        city=city,
        hh_start=hh_start,
        hh_size=sizes.astype(np.int32),
        hh_nadult=nadult.astype(np.int32),
        hh_nb=hh_nb,
        hh_eligible=hh_eligible,
        nb_hh_start=nb_hh_start,
        nb_centre_km=centres,
        nb_spacing_km=spacing,
        household=household,
        age=age,
        birth_year_given=birth_year_given,
        culture=culture,
        first_name=first_name,
        surname=surname,
        language=language,
        lat=hh_lat[household],
        lon=hh_lon[household],
        precision=precision[household],
        phone=phone,
        has_email=has_email,
        consent_contact=consent_contact,
        consent_research=consent_research,
        consent_sharing=consent_sharing,
        note=note,
        isolated=isolated,
        single_contact=single_contact,
    )
