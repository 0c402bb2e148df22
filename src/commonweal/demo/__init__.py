"""Seeded synthetic demo communities: members, support ties, groups and assets.

``generate_community`` returns the four registry tables as polars frames; ``write_community``
streams the same community to members.csv, ties.csv, groups.csv and assets.csv (1M members and
10M ties in a few minutes with bounded memory). The model is described in ``docs/demo.md``.
"""

from __future__ import annotations

from commonweal.demo.community import (
    DemoCommunity,
    WrittenCommunity,
    generate_community,
    write_community,
)
from commonweal.demo.population import CALGARY, City

__all__ = [
    "CALGARY",
    "City",
    "DemoCommunity",
    "WrittenCommunity",
    "generate_community",
    "write_community",
]
