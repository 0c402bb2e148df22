"""What-if scenarios: a member leaves, or new ties are made (a buddy scheme).

Both compare the network before and after on the same measures:

* **removing** people keeps them in the people list but drops every tie to or from them; the
  result lists who *newly* becomes isolated (had a supporter, has none) or single-contact, and
  who is **cut off**: was in the main body and is no longer in the largest remaining piece of it
  (undirected support graph);
* **adding** ties (``from`` turns to ``to``) reports who stops being isolated / single-contact,
  and how the flag counts and the robustness index R change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from commonweal.analytics.networks.cuts import components_scipy
from commonweal.analytics.networks.graph import SupportGraph, from_arrays
from commonweal.analytics.networks.kinds import UNSPECIFIED, kind_code
from commonweal.analytics.networks.profile import FlagRules, member_measures
from commonweal.analytics.networks.robustness import robustness

__all__ = ["WhatIf", "add_ties", "remove_members"]

_FLAGS = ("isolated", "single_contact", "dependent_on_one", "overloaded")
_ORDERS = ("random", "degree")


@dataclass(frozen=True)
class WhatIf:
    """Before/after comparison of a scenario (ids are external ids)."""

    scenario: str
    removed: list[str]
    added_ties: int
    newly_isolated: list[str]
    newly_single_contact: list[str]
    no_longer_isolated: list[str]
    cut_off: list[str]
    flags_before: dict[str, int]
    flags_after: dict[str, int]
    main_body_before: int
    main_body_after: int
    robustness_before: dict[str, float]
    robustness_after: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dict(self.__dict__)


def _state(graph: SupportGraph, rules: FlagRules | None, seed: int,
           exclude: npt.NDArray[np.bool_]) -> tuple[dict[str, npt.NDArray[np.bool_]],
                                                    npt.NDArray[np.int64], dict[str, float]]:
    m = member_measures(graph, rules, reach=False)
    flags = {f: m[f].to_numpy() & ~exclude for f in _FLAGS}
    comp, _ = components_scipy(graph)
    rob = robustness(graph, _ORDERS, seed=seed)
    return flags, comp, {k: rob.index(k) for k in rob.curves}


def _largest_piece(graph: SupportGraph, members: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Mask of the largest connected piece of the people in ``members`` (undirected graph)."""
    comp, _ = components_scipy(graph)
    if not members.any():
        return members.copy()
    sizes = np.bincount(comp[members])
    best = int(np.argmax(sizes))
    out: npt.NDArray[np.bool_] = members & (comp == best)
    return out


def remove_members(graph: SupportGraph, ids: Sequence[str], *, rules: FlagRules | None = None,
                   seed: int = 0) -> WhatIf:
    """What if these people left? Who becomes isolated or is cut off from the main body.

    Examples
    --------
    >>> from commonweal.analytics.networks.graph import from_edges
    >>> g = from_edges(["a", "b", "c"], ["hub", "hub", "hub"])
    >>> remove_members(g, ["hub"]).newly_isolated
    ['a', 'b', 'c']
    """
    gone_idx = graph.internal(ids)
    gone = np.zeros(graph.n, dtype=bool)
    gone[gone_idx] = True
    after = graph.subgraph_without(gone_idx)
    f0, comp0, r0 = _state(graph, rules, seed, gone)
    f1, _, r1 = _state(after, rules, seed, gone)
    main0 = (comp0 == 0) & ~gone
    still = _largest_piece(after, main0)
    ids_arr = graph.ids
    return WhatIf(
        scenario="remove",
        removed=[str(x) for x in ids_arr[gone_idx]],
        added_ties=0,
        newly_isolated=ids_arr[f1["isolated"] & ~f0["isolated"]].tolist(),
        newly_single_contact=ids_arr[f1["single_contact"] & ~f0["single_contact"]
                                     & ~f1["isolated"]].tolist(),
        no_longer_isolated=[],
        cut_off=ids_arr[main0 & ~still].tolist(),
        flags_before={k: int(v.sum()) for k, v in f0.items()},
        flags_after={k: int(v.sum()) for k, v in f1.items()},
        main_body_before=int(((comp0 == 0)).sum()),
        main_body_after=int(still.sum()),
        robustness_before=r0,
        robustness_after=r1,
        notes=["flags exclude the people removed; main body after = largest remaining piece "
               "of the old main body"],
    )


def add_ties(graph: SupportGraph, from_ids: Sequence[str], to_ids: Sequence[str],
             kinds: Sequence[str] | None = None, *, rules: FlagRules | None = None,
             seed: int = 0) -> WhatIf:
    """What if these ties were made (``from`` turns to ``to``)? Flags and R before and after.

    Examples
    --------
    >>> from commonweal.analytics.networks.graph import from_edges
    >>> g = from_edges(["a"], ["b"], people=["c"])
    >>> add_ties(g, ["c"], ["a"]).no_longer_isolated
    ['c']
    """
    s = graph.internal(from_ids)
    d = graph.internal(to_ids)
    k = (np.full(s.size, UNSPECIFIED, dtype=np.uint8) if kinds is None
         else np.asarray([kind_code(x) for x in kinds], dtype=np.uint8))
    after = from_arrays(np.concatenate((graph.src, s)), np.concatenate((graph.dst, d)),
                        np.concatenate((graph.kind, k)),
                        np.concatenate((graph.weight, np.ones(s.size))), n=graph.n,
                        ids=graph.ids)
    none = np.zeros(graph.n, dtype=bool)
    f0, comp0, r0 = _state(graph, rules, seed, none)
    f1, comp1, r1 = _state(after, rules, seed, none)
    ids_arr = graph.ids
    return WhatIf(
        scenario="add",
        removed=[],
        added_ties=after.n_ties - graph.n_ties,
        newly_isolated=[],
        newly_single_contact=ids_arr[f1["single_contact"] & f0["isolated"]].tolist(),
        no_longer_isolated=ids_arr[f0["isolated"] & ~f1["isolated"]].tolist(),
        cut_off=[],
        flags_before={k2: int(v.sum()) for k2, v in f0.items()},
        flags_after={k2: int(v.sum()) for k2, v in f1.items()},
        main_body_before=int((comp0 == 0).sum()),
        main_body_after=int((comp1 == 0).sum()),
        robustness_before=r0,
        robustness_after=r1,
    )
