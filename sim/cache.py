"""A small on-disk cache of arrays, keyed by the content they were computed from.

Parsing a street map and tabulating travel distances cost seconds; both depend only on
file contents and a few settings, so their arrays are kept as ``.npz`` files named by a
digest of those inputs. A changed map or staffing gets a new key; stale entries are
never read. Set ``SIM_CACHE_DIR`` to move the cache, or ``SIM_NO_CACHE=1`` to bypass it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

VERSION = "2"  # bump when the layout of cached arrays changes


def cache_dir() -> Path | None:
    """Where cached arrays live, or ``None`` when caching is switched off."""
    if os.environ.get("SIM_NO_CACHE"):
        return None
    root = os.environ.get("SIM_CACHE_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chengguan-sim"


def digest(parts: Iterable[bytes | str | np.ndarray]) -> str:
    """A hex key from strings, bytes and arrays (by their raw contents)."""
    h = hashlib.sha256(VERSION.encode())
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, str):
            h.update(part.encode("utf-8"))
        else:
            h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:32]


def load(kind: str, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``kind/key``, or ``None`` if absent or unreadable."""
    root = cache_dir()
    if root is None:
        return None
    path = root / kind / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None


def store(kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Save arrays under ``kind/key`` atomically; a cache that cannot be written is skipped."""
    root = cache_dir()
    if root is None:
        return
    folder = root / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        Path(name).replace(folder / f"{key}.npz")
    except OSError:
        return


def file_digest(path: Path, block: int = 1 << 22) -> str:
    """SHA-256 of a file's content, read in blocks so a large file is never held in memory."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while data := fh.read(block):
            h.update(data)
    return h.hexdigest()
