"""One interface for batch analytics: serial, local processes, or Dask.

``Executor(backend).map(fn, items)`` returns ``[fn(item) for item in items]`` in item order,
whichever backend runs it. Two options make seeded, heavy work reproducible and cheap:

- ``seed=``: every task gets its own ``numpy.random.SeedSequence`` spawned from the seed
  (``fn(item, seed=child)``). Seeds belong to tasks, never to workers, so the serial,
  processes and Dask backends give identical results for the same items and seed.
- ``shared=``: a large read-only object (a data matrix) sent to each worker once instead of with
  every task (``fn(item, shared=obj)``): through the fork of a process pool, or Dask's
  ``scatter(broadcast=True)``.

Dask is an optional extra (``pip install commonweal[dask]``). With no address, an in-process
``LocalCluster(processes=False)`` starts in a few hundredths of a second. For process-based Dask
workers we drop ``MALLOC_TRIM_THRESHOLD_`` from the nanny's environment: its mere presence made
allocation-heavy NumPy tasks about three times slower in our measurements (field note "stack").
"""

from __future__ import annotations

import multiprocessing as mp
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import numpy as np

from commonweal.errors import ConfigurationError

__all__ = ["BACKENDS", "Executor"]

T = TypeVar("T")
BACKENDS = ("serial", "processes", "dask")
_NOTHING: Any = object()
_SHARED: dict[str, Any] = {}


def _init_worker(obj: Any, use_shared: bool) -> None:  # runs once in each worker process
    """Keep one BLAS thread per worker process (workers x BLAS threads = cores), store ``shared``."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        threadpool_limits(1)
    except ImportError:  # optional: without it BLAS may oversubscribe the cores
        pass
    if use_shared:
        _SHARED["obj"] = obj


def _call_with_shared(fn: Callable[..., Any], item: Any, seed: Any, use_shared: bool) -> Any:
    kwargs: dict[str, Any] = {}
    if use_shared:
        kwargs["shared"] = _SHARED["obj"]
    if seed is not None:
        kwargs["seed"] = seed
    return fn(item, **kwargs)


def _call_dask(fn: Callable[..., Any], item: Any, seed: Any, shared: Any = _NOTHING) -> Any:
    kwargs: dict[str, Any] = {}
    if shared is not _NOTHING:
        kwargs["shared"] = shared
    if seed is not None:
        kwargs["seed"] = seed
    return fn(item, **kwargs)


class Executor:
    """Run ``fn`` over items on one backend.

    Parameters
    ----------
    backend
        ``serial`` (default; in this process), ``processes`` (a ``ProcessPoolExecutor``) or
        ``dask`` (``distributed.Client``).
    workers
        Number of worker processes/threads (default: the CPU count).
    address
        Dask scheduler address (``tcp://host:8786``); without it an in-process
        ``LocalCluster(processes=False)`` is started and closed with the executor.
    dask_processes
        Start the local Dask cluster with worker processes instead of threads.

    Examples
    --------
    >>> with Executor("serial") as ex:
    ...     ex.map(abs, [-1, 2, -3])
    [1, 2, 3]
    """

    def __init__(
        self,
        backend: str = "serial",
        workers: int | None = None,
        address: str | None = None,
        dask_processes: bool = False,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigurationError(
                f"unknown executor backend {backend!r}; use one of {', '.join(BACKENDS)}"
            )
        self.backend = backend
        self.workers = workers or os.cpu_count() or 1
        self.address = address
        self.dask_processes = dask_processes
        self._client: Any = None
        self._cluster: Any = None

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the Dask client and the local cluster this executor started (if any)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _dask_client(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ConfigurationError(
                "the 'dask' backend needs Dask: pip install 'commonweal[dask]'"
            ) from exc
        env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            if self.address:
                self._client = Client(self.address)  # type: ignore[no-untyped-call]
            else:
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=self.workers if self.dask_processes else 1,
                    threads_per_worker=1 if self.dask_processes else self.workers,
                    processes=self.dask_processes,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
        return self._client

    # -- work ----------------------------------------------------------------------------------
    def map(
        self,
        fn: Callable[..., T],
        items: Iterable[Any],
        *,
        seed: int | np.random.SeedSequence | None = None,
        shared: Any = _NOTHING,
        on_done: Callable[[int], None] | None = None,
    ) -> list[T]:
        """``[fn(item) for item in items]`` on the backend, in item order.

        With ``seed``, task k is called as ``fn(item, seed=SeedSequence(seed).spawn(n)[k])``.
        With ``shared``, as ``fn(item, shared=obj)``. ``on_done(k)`` is called with the index k of
        each task as it finishes (progress bars). ``fn`` must be a module-level function for the
        processes and process-based Dask backends.
        """
        items = list(items)
        seeds: Sequence[Any]
        if seed is None:
            seeds = [None] * len(items)
        else:
            ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
            seeds = ss.spawn(len(items))
        use_shared = shared is not _NOTHING
        if self.backend == "serial" or len(items) <= 1 and self.backend != "dask":
            out: list[T] = []
            for k, (item, s) in enumerate(zip(items, seeds, strict=True)):
                out.append(_call_dask(fn, item, s, shared))
                if on_done:
                    on_done(k)
            return out
        if self.backend == "processes":
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else "spawn")
            results: list[Any] = [None] * len(items)
            # fork shares the (read-only) data without pickling. Python >= 3.12 warns when a
            # process with threads (polars, BLAS) forks; our tasks run NumPy only in the child.
            with (
                warnings.catch_warnings(),
                ProcessPoolExecutor(
                    max_workers=min(self.workers, len(items)),
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(shared if use_shared else None, use_shared),
                ) as pool,
            ):
                warnings.filterwarnings(
                    "ignore", message=".*use of fork\\(\\) may lead to deadlocks.*"
                )
                futs = {
                    pool.submit(_call_with_shared, fn, item, s, use_shared): k
                    for k, (item, s) in enumerate(zip(items, seeds, strict=True))
                }
                for f in as_completed(futs):
                    results[futs[f]] = f.result()
                    if on_done:
                        on_done(futs[f])
            return results
        client = self._dask_client()
        extra: list[Any] = []
        if use_shared:
            extra = [client.scatter(shared, broadcast=True)]
        futures = [
            client.submit(_call_dask, fn, item, s, *extra, pure=False)
            for item, s in zip(items, seeds, strict=True)
        ]
        if on_done:
            from distributed import as_completed as dask_completed

            index = {f.key: k for k, f in enumerate(futures)}
            for f in dask_completed(futures):  # type: ignore[no-untyped-call]
                on_done(index[f.key])
        return list(client.gather(futures))
