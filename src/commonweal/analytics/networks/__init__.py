"""Social-support network analytics: build, profile, stress-test (pure computation).

A tie ``from -> to`` means "from turns to to" (``to`` is one of ``from``'s supporters). Supporters,
dependents and flags use the directed typed graph; components, cuts, cores, brokerage,
communities and robustness use the undirected support graph (a tie either way, any kind).

The names below are loaded on first use (PEP 562): the web app imports this package at start-up,
and most of them need SciPy, polars or NetworKit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commonweal._lazy import lazy_names

if TYPE_CHECKING:
    from commonweal.analytics.networks.centrality import Betweenness, betweenness, core_numbers
    from commonweal.analytics.networks.communities import Communities, communities
    from commonweal.analytics.networks.cuts import CutStructure, cut_structure
    from commonweal.analytics.networks.graph import SupportGraph, from_arrays, from_edges
    from commonweal.analytics.networks.io import (
        from_networkx,
        read_edge_list,
        read_graphml,
        read_karnataka_village,
        read_network,
        to_networkx,
        write_graphml,
    )
    from commonweal.analytics.networks.kinds import SUPPORT_TYPES
    from commonweal.analytics.networks.profile import FlagRules, member_measures, two_step_reach
    from commonweal.analytics.networks.robustness import Robustness, lcc_curve, robustness
    from commonweal.analytics.networks.summary import (
        NetworkProfile,
        NetworkSummary,
        gini,
        profile_network,
        reciprocity,
    )
    from commonweal.analytics.networks.synthetic import support_network
    from commonweal.analytics.networks.whatif import WhatIf, add_ties, remove_members

__all__ = [
    "SUPPORT_TYPES",
    "Betweenness",
    "Communities",
    "CutStructure",
    "FlagRules",
    "NetworkProfile",
    "NetworkSummary",
    "Robustness",
    "SupportGraph",
    "WhatIf",
    "add_ties",
    "betweenness",
    "communities",
    "core_numbers",
    "cut_structure",
    "from_arrays",
    "from_edges",
    "from_networkx",
    "gini",
    "lcc_curve",
    "member_measures",
    "profile_network",
    "read_edge_list",
    "read_graphml",
    "read_karnataka_village",
    "read_network",
    "reciprocity",
    "remove_members",
    "robustness",
    "support_network",
    "to_networkx",
    "two_step_reach",
    "write_graphml",
]

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "Betweenness": "centrality",
    "betweenness": "centrality",
    "core_numbers": "centrality",
    "Communities": "communities",
    "communities": "communities",
    "CutStructure": "cuts",
    "cut_structure": "cuts",
    "SupportGraph": "graph",
    "from_arrays": "graph",
    "from_edges": "graph",
    "from_networkx": "io",
    "read_edge_list": "io",
    "read_graphml": "io",
    "read_karnataka_village": "io",
    "read_network": "io",
    "to_networkx": "io",
    "write_graphml": "io",
    "SUPPORT_TYPES": "kinds",
    "FlagRules": "profile",
    "member_measures": "profile",
    "two_step_reach": "profile",
    "Robustness": "robustness",
    "lcc_curve": "robustness",
    "robustness": "robustness",
    "NetworkProfile": "summary",
    "NetworkSummary": "summary",
    "gini": "summary",
    "profile_network": "summary",
    "reciprocity": "summary",
    "support_network": "synthetic",
    "WhatIf": "whatif",
    "add_ties": "whatif",
    "remove_members": "whatif",
}

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
