import networkx as nx
import numpy as np
import pytest

from commonweal.analytics.networks import (
    from_arrays,
    from_networkx,
    read_edge_list,
    read_graphml,
    read_network,
    to_networkx,
    write_graphml,
)
from commonweal.analytics.networks.kinds import SUPPORT_TYPES
from commonweal.errors import InputError


def test_ties_csv_support_types_and_strength(tmp_path):
    p = tmp_path / "ties.csv"
    p.write_text("from_id,to_id,kind,support_types,strength\n"
                 "m1,m2,kin,emotional;practical,4\nm2,m1,friend,,\nm3,m3,kin,emotional,1\n",
                 encoding="utf-8-sig")
    g = read_edge_list(p)
    assert list(g.ids) == ["m1", "m2", "m3"]
    assert g.n_ties == 3 and g.dropped_self_ties == 1
    kinds = {SUPPORT_TYPES[k] for k in g.kind.tolist()}
    assert kinds == {"emotional", "practical", "unspecified"}
    assert sorted(g.weight.tolist()) == [1.0, 4.0, 4.0]


def test_bad_support_type_reports_row(tmp_path):
    p = tmp_path / "ties.csv"
    p.write_text("from_id,to_id,kind,support_types\na,b,kin,emotional\na,c,kin,hugs\n")
    with pytest.raises(InputError) as exc:
        read_edge_list(p)
    assert exc.value.problems[0].row == 3


def test_plain_edge_list_and_errors(tmp_path):
    p = tmp_path / "e.txt"
    p.write_text("# comment\n1 2\n2\t3 0.5\n")
    g = read_network(p, kind="practical")
    assert g.n == 3 and set(g.kind.tolist()) == {SUPPORT_TYPES.index("practical")}
    p.write_text("1 2 3 4\n")
    with pytest.raises(InputError):
        read_edge_list(p)
    with pytest.raises(InputError):
        from_arrays([0], [5], n=3)


def test_graphml_round_trip_with_profile_attributes(tmp_path):
    import polars as pl

    g = from_arrays([0, 1, 2], [1, 2, 0], [0, 1, 2], n=4, ids=["a", "b", "c", "d"])
    attrs = pl.DataFrame({"id": g.ids, "isolated": [False, False, False, True], "core": [2, 2, 2, 0],
                          "score": [0.5, 0.1, 0.0, 0.0]})
    path = tmp_path / "g.graphml"
    write_graphml(path, g, attrs)
    G = nx.read_graphml(path)
    assert G.nodes["d"]["isolated"] is True and G.nodes["a"]["core"] == 2
    assert G.edges["a", "b"]["support_type"] == "emotional"
    back = read_graphml(path)
    assert list(back.ids) == list(g.ids)
    np.testing.assert_array_equal(back.kind, g.kind)


def test_networkx_interop():
    G = nx.DiGraph()
    G.add_edge("x", "y", support_type="financial", weight=2)
    G.add_node("z")
    g = from_networkx(G)
    assert g.n == 3 and g.kind.tolist() == [SUPPORT_TYPES.index("financial")]
    H = to_networkx(g)
    assert H.has_edge("x", "y") and H.number_of_nodes() == 3
    U = from_networkx(nx.Graph([("p", "q")]))
    assert U.n_ties == 2 and U.n_edges == 1
