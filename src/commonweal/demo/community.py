"""Generate a seeded synthetic community in memory, or stream it to the four registry CSV files."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from commonweal.demo.assets import assets_frame
from commonweal.demo.frames import group_names, groups_frame, members_frame
from commonweal.demo.population import CALGARY, City, Population, build_population
from commonweal.demo.structure import Structure, build_structure
from commonweal.demo.ties import ties_frame
from commonweal.errors import InputError, Problem

__all__ = ["DemoCommunity", "WrittenCommunity", "generate_community", "write_community"]

FILES = ("members", "ties", "groups", "assets")
MAX_MEMBERS = 50_000_000


@dataclass(frozen=True)
class DemoCommunity:
    """A synthetic community as four polars frames in the registry formats (``docs/formats.md``).

    Attributes
    ----------
    members, ties, groups, assets
        Frames whose columns are exactly those of members.csv, ties.csv, groups.csv, assets.csv.
    seed, n_members, mean_ties
        The parameters it was generated with.
    """

    members: pl.DataFrame = field(repr=False)
    ties: pl.DataFrame = field(repr=False)
    groups: pl.DataFrame = field(repr=False)
    assets: pl.DataFrame = field(repr=False)
    seed: int
    n_members: int
    mean_ties: float

    def to_dict(self) -> dict[str, object]:
        """Parameters and row counts, for JSON."""
        return {
            "seed": self.seed,
            "n_members": self.n_members,
            "mean_ties": self.mean_ties,
            "rows": {name: getattr(self, name).height for name in FILES},
        }


@dataclass(frozen=True)
class WrittenCommunity:
    """What :func:`write_community` wrote: the four CSV paths and their data-row counts."""

    paths: dict[str, Path]
    rows: dict[str, int]
    seed: int
    n_members: int

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "n_members": self.n_members,
            "paths": {k: str(v) for k, v in self.paths.items()},
            "rows": dict(self.rows),
        }


def _check(
    n_members: int,
    seed: int,
    mean_ties: float,
    n_neighbourhoods: int | None,
    isolated_share: float,
    single_contact_share: float,
) -> int:
    problems: list[Problem] = []
    if (
        isinstance(n_members, bool)
        or not isinstance(n_members, int)
        or not (1 <= n_members <= MAX_MEMBERS)
    ):
        problems.append(
            Problem(f"must be a whole number from 1 to {MAX_MEMBERS:,}", field="n_members")
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(Problem("must be a whole number >= 0", field="seed"))
    if not (isinstance(mean_ties, int | float) and 1.0 <= mean_ties <= 100.0):
        problems.append(Problem("must be between 1 and 100 tie rows per member", field="mean_ties"))
    for name, share in (
        ("isolated_share", isolated_share),
        ("single_contact_share", single_contact_share),
    ):
        if not (isinstance(share, int | float) and 0.0 <= share <= 1.0):
            problems.append(Problem("must be a share between 0 and 1", field=name))
    if not problems and isolated_share + single_contact_share > 1.0:
        problems.append(
            Problem(
                "isolated_share + single_contact_share must not exceed 1",
                field="single_contact_share",
            )
        )
    if n_neighbourhoods is not None and (
        not isinstance(n_neighbourhoods, int) or n_neighbourhoods < 1
    ):
        problems.append(Problem("must be a whole number >= 1", field="n_neighbourhoods"))
    if problems:
        raise InputError("cannot generate the demo community", problems)
    if n_neighbourhoods is None:
        return max(1, round(math.sqrt(n_members) / 4))
    return n_neighbourhoods


def _plan(
    n_members: int,
    seed: int,
    mean_ties: float,
    n_neighbourhoods: int | None,
    isolated_share: float,
    single_contact_share: float,
    reference_year: int,
    city: City,
) -> tuple[Population, Structure]:
    k = _check(n_members, seed, mean_ties, n_neighbourhoods, isolated_share, single_contact_share)
    pop = build_population(
        n_members,
        seed=seed,
        n_neighbourhoods=k,
        isolated_share=isolated_share,
        single_contact_share=single_contact_share,
        reference_year=reference_year,
        city=city,
    )
    return pop, build_structure(pop, seed=seed, mean_ties=mean_ties)


def generate_community(
    n_members: int = 400,
    *,
    seed: int,
    mean_ties: float = 6.0,
    n_neighbourhoods: int | None = None,
    isolated_share: float = 0.12,
    single_contact_share: float = 0.15,
    reference_year: int = 2025,
    city: City = CALGARY,
) -> DemoCommunity:
    """Generate a believable synthetic community, the same for the same arguments.

    People live in households of 1-6 (28 % one person) spread over neighbourhoods around a city
    centre; they are tied to housemates and relatives (kin), to nearby households (neighbours), to
    people in the same groups (friends, colleagues, peer supporters), to mentors and to care
    professionals. Group memberships per person are Poisson with a lognormal rate, which makes the
    number of contacts heavy-tailed; ties inside a group follow a thinned ring (Watts & Strogatz
    1998), which makes triangles. Among people 65+ living alone, ``isolated_share`` have no ties
    at all and ``single_contact_share`` exactly one contact. The full model is in ``docs/demo.md``.

    Parameters
    ----------
    n_members
        Number of people (default 400, a believable neighbourhood mutual-aid registry).
    seed
        Any whole number >= 0; the community is a pure function of the arguments.
    mean_ties
        Target ties.csv rows per member (a reciprocal tie is two rows). Reached within about 1 %
        from the kin-and-neighbour floor (about 2.6) up to 20; never below that floor, and a few
        per cent short at 50 (group ties saturate).
    n_neighbourhoods
        Default ``round(sqrt(n_members) / 4)`` (5 for 400 members, 250 for a million).
    isolated_share, single_contact_share
        Shares of people 65+ living alone with no ties, and with exactly one contact.
    reference_year
        "This year": birth years and tie dates are relative to it (fixed, for reproducibility).
    city
        The centre and phone area codes; default Calgary City Hall (51.0453 N, 114.0581 W).

    Returns
    -------
    DemoCommunity
        members, ties, groups and assets frames with exactly the columns of ``docs/formats.md``.

    Raises
    ------
    InputError
        When an argument is out of range (the problem names the argument).

    Examples
    --------
    >>> c = generate_community(400, seed=7)
    >>> c.members.height, c.members.columns[:2]
    (400, ['external_id', 'display_name'])
    """
    pop, st = _plan(
        n_members,
        seed,
        mean_ties,
        n_neighbourhoods,
        isolated_share,
        single_contact_share,
        reference_year,
        city,
    )
    return DemoCommunity(
        members=members_frame(pop, 0, pop.n),
        ties=ties_frame(pop, st, seed, 0, pop.n),
        groups=groups_frame(pop, st, group_names(pop, st), 0, st.n_groups),
        assets=assets_frame(pop, seed=seed),
        seed=seed,
        n_members=n_members,
        mean_ties=float(mean_ties),
    )


def write_community(
    out_dir: str | Path,
    n_members: int = 400,
    *,
    seed: int,
    chunk_size: int = 20_000,
    mean_ties: float = 6.0,
    n_neighbourhoods: int | None = None,
    isolated_share: float = 0.12,
    single_contact_share: float = 0.15,
    reference_year: int = 2025,
    city: City = CALGARY,
    on_progress: Callable[[int, int], None] | None = None,
) -> WrittenCommunity:
    """Stream the community of :func:`generate_community` to members/ties/groups/assets.csv.

    The files are byte-for-byte what writing the in-memory frames with polars would give, for any
    ``chunk_size``. Memory stays bounded: besides compact per-member arrays (about 100 bytes per
    member) only one chunk of ``chunk_size`` members and their ties is held as text at a time.
    Existing files of those names in ``out_dir`` are replaced.

    Parameters
    ----------
    out_dir
        Directory to write into (created if missing).
    n_members, seed, mean_ties, n_neighbourhoods, isolated_share, single_contact_share
        As for :func:`generate_community` (so are ``reference_year`` and ``city``).
    chunk_size
        Members (with their outgoing ties) per write; 20,000 keeps a chunk under ~70 MB at 10 ties
        per member.
    on_progress
        Called as ``on_progress(done, total)`` with members written so far, after each chunk.

    Returns
    -------
    WrittenCommunity
        Paths of the four files and their data-row counts.

    Raises
    ------
    InputError
        When an argument is out of range or ``out_dir`` is not a directory.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(
            "cannot write the demo community",
            [Problem("must be a whole number >= 1", field="chunk_size")],
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(
            "cannot write the demo community",
            [Problem(f"{out} exists and is not a directory", field="out_dir")],
        )
    pop, st = _plan(
        n_members,
        seed,
        mean_ties,
        n_neighbourhoods,
        isolated_share,
        single_contact_share,
        reference_year,
        city,
    )
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.csv" for name in FILES}
    rows = dict.fromkeys(FILES, 0)

    assets = assets_frame(pop, seed=seed)
    assets.write_csv(paths["assets"])
    rows["assets"] = assets.height

    names = group_names(pop, st)
    with paths["groups"].open("wb") as fh:
        g0 = 0
        first = True
        while first or g0 < st.n_groups:
            # chunks of about chunk_size memberships
            target = int(st.g_start[g0]) + chunk_size
            g1 = max(g0 + 1, int(st.g_start.searchsorted(target, "right")) - 1)
            g1 = min(g1, st.n_groups)
            frame = groups_frame(pop, st, names, g0, g1)
            frame.write_csv(fh, include_header=first)
            rows["groups"] += frame.height
            first, g0 = False, g1

    with paths["members"].open("wb") as fm, paths["ties"].open("wb") as ft:
        for lo in range(0, pop.n, chunk_size):
            hi = min(pop.n, lo + chunk_size)
            members = members_frame(pop, lo, hi)
            members.write_csv(fm, include_header=lo == 0)
            rows["members"] += members.height
            del members
            ties = ties_frame(pop, st, seed, lo, hi)
            ties.write_csv(ft, include_header=lo == 0)
            rows["ties"] += ties.height
            del ties
            if on_progress is not None:
                on_progress(hi, pop.n)
    return WrittenCommunity(paths=paths, rows=rows, seed=seed, n_members=n_members)
