"""Karnataka village 1 stored in a community, and an independent networkx reference built straight
from the raw CSV files (the csv module, not our readers)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from sqlalchemy.orm import Session, sessionmaker

from commonweal.db.engine import transaction
from commonweal.registry import service as reg
from commonweal.registry.karnataka import import_karnataka_village
from commonweal.registry.schemas import CommunityCreate
from tests.helpers import shared_data


@dataclass
class Village:
    org_id: int
    community_id: int
    member_of: dict[str, int]  # pid -> member id
    pid_of: dict[int, str]  # member id -> pid
    edges: Path
    meta: Path


def village_files() -> tuple[Path, Path]:
    return (shared_data("networks", "karnataka_villages", "vil1_edges.csv"),
            shared_data("networks", "karnataka_villages", "vil1_meta.csv"))


def store_village(factory: sessionmaker[Session], org_id: int | None = None,
                  name: str = "Village 1") -> Village:
    edges, meta = village_files()
    from commonweal.networks.service import external_ids

    with transaction(factory) as s:
        if org_id is None:
            org_id = reg.create_organisation(s, name="Karnataka survey").id
        c = reg.create_community(s, organisation_id=org_id,
                                 data=CommunityCreate(name=name, kind="village"))
        import_karnataka_village(s, organisation_id=org_id, community_id=c.id, meta_path=meta,
                                 edges_path=edges)
        ext = external_ids(s, organisation_id=org_id, community_id=c.id)
    return Village(org_id, c.id, {v: k for k, v in ext.items()}, ext, edges, meta)


def networkx_reference(edges: Path, meta: Path) -> tuple[nx.DiGraph, nx.Graph]:
    """Directed "i turns to j" graph and its undirected support graph, from the raw files."""
    d = nx.DiGraph()
    with open(meta, newline="", encoding="utf-8") as f:
        d.add_nodes_from(row["pid"] for row in csv.DictReader(f))
    with open(edges, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["i"] != row["j"]:
                d.add_edge(row["i"], row["j"])
    return d, d.to_undirected()
