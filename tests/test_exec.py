"""commonweal.exec.Executor: same results on serial, processes and Dask, seeds per task."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from commonweal.errors import ConfigurationError
from commonweal.exec import Executor


def draw(item: int, *, seed: np.random.SeedSequence) -> list[float]:
    rng = np.random.default_rng(seed)
    return [item, *rng.random(3).tolist()]


def scaled_sum(item: float, *, shared: np.ndarray) -> float:
    return float(shared.sum() * item)


@pytest.fixture(scope="module")
def serial_reference() -> list[list[float]]:
    return Executor("serial").map(draw, range(6), seed=42)


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_seeded_results_identical_across_backends(
    backend: str, serial_reference: list[list[float]]
) -> None:
    with Executor(backend, workers=2) as ex:
        got = ex.map(draw, range(6), seed=42)
    assert got == serial_reference
    # independent of worker state: SeedSequence(42).spawn(6)[k] is task k's seed
    expect = np.random.default_rng(np.random.SeedSequence(42).spawn(6)[3]).random(3).tolist()
    assert got[3][1:] == expect


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
def test_shared_object_and_order(backend: str) -> None:
    big = np.arange(1000.0)
    done: list[int] = []
    with Executor(backend, workers=2) as ex:
        got = ex.map(scaled_sum, [1.0, 2.0, 3.0], shared=big, on_done=done.append)
    assert got == [big.sum(), 2 * big.sum(), 3 * big.sum()]
    assert sorted(done) == [0, 1, 2]


def test_unknown_backend() -> None:
    with pytest.raises(ConfigurationError, match="unknown executor backend"):
        Executor("spark")


def test_missing_dask_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ConfigurationError, match=r"commonweal\[dask\]"):
        Executor("dask").map(abs, [1, 2])


def worker_env(_: int) -> str | None:
    import os

    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_dask_process_workers_do_not_get_malloc_trim_threshold() -> None:
    # the Dask nanny sets MALLOC_TRIM_THRESHOLD_=65536 by default, which made NumPy-heavy tasks
    # about 3x slower (field note "stack"); our local cluster leaves it unset
    with Executor("dask", workers=1, dask_processes=True) as ex:
        assert ex.map(worker_env, [0]) == [None]
