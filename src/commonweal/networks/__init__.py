"""The support network of a stored community: service (load, profile, what-if), server-side
layout and plots, and the API routes (``commonweal.networks.routes``)."""

from commonweal.networks.service import (
    FLAGS,
    community_graph,
    community_profile,
    member_rows,
    whatif_add,
    whatif_remove,
)

__all__ = [
    "FLAGS",
    "community_graph",
    "community_profile",
    "member_rows",
    "whatif_add",
    "whatif_remove",
]
