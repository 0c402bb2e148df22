"""Constants of the tie model: kinds, support types per kind, strengths, reciprocity, salts."""

from __future__ import annotations

import numpy as np

__all__ = [
    "GROUP_KINDS",
    "GROUP_TIE_KIND",
    "HOUSEHOLD_KIN",
    "KIND_NAMES",
    "RECIPROCAL_SHARE",
    "STRENGTH_RANGE",
    "SUPPORT_TYPE_NAMES",
    "SUPPORT_TYPE_P",
    "support_type_table",
]

# ties.csv kinds in the order of docs/formats.md; code 8: kin in the same household (written "kin")
KIND_NAMES = (
    "kin",
    "friend",
    "neighbour",
    "colleague",
    "peer_supporter",
    "mentor",
    "professional",
    "other",
)
KIN, FRIEND, NEIGHBOUR, COLLEAGUE, PEER, MENTOR, PROFESSIONAL, OTHER, HOUSEHOLD_KIN = range(9)
OUTPUT_KIND = np.array([0, 1, 2, 3, 4, 5, 6, 7, 0], dtype=np.int64)

# groups.csv kinds we generate (households are not written as groups)
GROUP_KINDS = ("team", "affinity", "practice", "peer_support", "other")
GROUP_KIND_SHARES = np.array([0.30, 0.30, 0.20, 0.15, 0.05])
GROUP_TIE_KIND = np.array([COLLEAGUE, FRIEND, FRIEND, PEER, OTHER], dtype=np.int64)
GROUP_ROLE = ("lead", "organiser", "organiser", "facilitator", "chair")

SUPPORT_TYPE_NAMES = ("emotional", "practical", "financial", "information", "companionship")

# P(support type | internal kind); columns in SUPPORT_TYPE_NAMES order. The last column of
# PRIMARY_TYPE is the type a tie falls back to when none was drawn.
SUPPORT_TYPE_P = np.array(
    [
        [0.85, 0.75, 0.35, 0.20, 0.35],  # kin (another household)
        [0.80, 0.25, 0.05, 0.20, 0.70],  # friend
        [0.15, 0.90, 0.02, 0.25, 0.15],  # neighbour
        [0.30, 0.40, 0.02, 0.60, 0.20],  # colleague
        [0.90, 0.20, 0.00, 0.50, 0.40],  # peer_supporter
        [0.50, 0.20, 0.00, 0.90, 0.10],  # mentor
        [0.20, 0.80, 0.05, 0.70, 0.00],  # professional
        [0.30, 0.50, 0.05, 0.30, 0.30],  # other
        [0.90, 0.85, 0.40, 0.20, 0.50],  # kin in the same household
    ]
)
PRIMARY_TYPE = np.array([0, 4, 1, 3, 0, 3, 1, 1, 0], dtype=np.int64)

# inclusive strength range (1-5) per internal kind
STRENGTH_RANGE = np.array(
    [[2, 5], [2, 5], [1, 3], [1, 3], [2, 4], [2, 4], [2, 3], [1, 3], [4, 5]], dtype=np.int64
)

# share of ties of each kind where support flows both ways (both rows are written, both flagged)
RECIPROCAL_SHARE = np.array([0.75, 0.60, 0.50, 0.40, 0.60, 0.0, 0.0, 0.30, 1.0])

# salts: one per independent decision
SALT_NEIGHBOUR_KEEP, SALT_NEIGHBOUR_REP_X, SALT_NEIGHBOUR_REP_Y = 11, 12, 13
SALT_GROUP_KEEP = 21
SALT_DIRECTION, SALT_TYPES = 31, 32


def support_type_table() -> list[str]:
    """``support_types`` cell for each 5-bit mask (bit i = SUPPORT_TYPE_NAMES[i])."""
    return [
        ";".join(name for i, name in enumerate(SUPPORT_TYPE_NAMES) if mask >> i & 1)
        for mask in range(32)
    ]
