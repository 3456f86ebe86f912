"""Named, independent random streams derived from one seed.

Every source of randomness (arrivals, durations, outcomes, ...) draws from its own
stream, keyed by name and replication, so adding a new source never shifts the
numbers another source sees, and replication k of every variant sees the same
numbers (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, replication: int = 0) -> np.random.Generator:
    """Return the generator for source ``name`` in ``replication`` of run ``seed``."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication, key)))
