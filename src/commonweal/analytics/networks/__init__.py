"""Social-support network analytics: build, profile, stress-test (pure computation).

A tie ``from -> to`` means "from turns to to" (``to`` is one of ``from``'s supporters). Supporters,
dependents and flags use the directed typed graph; components, cuts, cores, brokerage,
communities and robustness use the undirected support graph (a tie either way, any kind).
"""

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
