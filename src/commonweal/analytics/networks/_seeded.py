"""One lock around NetworKit's seeded runs (internal).

NetworKit keeps a single global seed, and setting it makes every thread reseed its generator at
its next draw. A seeded run (Leiden, KADABRA) therefore holds this lock from setting the seed to
the end of the run, so two runs in one process (the profile's second thread, concurrent requests)
cannot reseed each other midway: same seed, same answer.
"""

from __future__ import annotations

import threading

__all__ = ["NK_SEED_LOCK"]

NK_SEED_LOCK = threading.Lock()
