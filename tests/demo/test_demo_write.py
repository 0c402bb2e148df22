"""Streaming writer: identical to the in-memory generator whatever the chunk size."""

from __future__ import annotations

import polars as pl
import pytest

from commonweal.demo import generate_community, write_community
from commonweal.errors import InputError

FILES = ("members", "ties", "groups", "assets")


@pytest.fixture(scope="module")
def expected():
    c = generate_community(350, seed=9, mean_ties=7)
    return {name: getattr(c, name).write_csv() for name in FILES}


@pytest.mark.parametrize("chunk_size", [1, 37, 100_000])
def test_streamed_files_equal_the_in_memory_community(tmp_path, expected, chunk_size):
    seen: list[tuple[int, int]] = []
    result = write_community(
        tmp_path,
        350,
        seed=9,
        mean_ties=7,
        chunk_size=chunk_size,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    for name in FILES:
        assert result.paths[name] == tmp_path / f"{name}.csv"
        text = result.paths[name].read_text(encoding="utf-8")
        assert text == expected[name], name
        assert result.rows[name] == text.count("\n") - 1
    assert seen[-1] == (350, 350)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert result.to_dict()["rows"]["members"] == 350


def test_files_read_back_as_the_registry_formats(tmp_path):
    result = write_community(tmp_path / "new" / "dir", 200, seed=2)
    members = pl.read_csv(result.paths["members"])
    ties = pl.read_csv(result.paths["ties"])
    assert members.height == result.rows["members"] == 200
    assert ties.height == result.rows["ties"]
    assert members.schema["lives_alone"] == pl.Boolean
    assert ties["strength"].is_between(1, 5).all()
    assert pl.read_csv(result.paths["groups"]).height == result.rows["groups"]
    assert pl.read_csv(result.paths["assets"]).height == result.rows["assets"]


def test_refuses_a_file_as_out_dir_and_a_bad_chunk_size(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("")
    with pytest.raises(InputError) as err:
        write_community(f, 10, seed=1)
    assert err.value.problems[0].field == "out_dir"
    with pytest.raises(InputError) as err:
        write_community(tmp_path, 10, seed=1, chunk_size=0)
    assert err.value.problems[0].field == "chunk_size"
