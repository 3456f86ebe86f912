"""A small on-disk cache of arrays, keyed by the content they were computed from.

Parsing a street map and tabulating travel distances cost seconds; both depend only on
file contents and a few settings, so their arrays are kept as ``.npz`` files named by a
digest of those inputs. A changed map or staffing gets a new key; stale entries are
never read. Set ``SIM_CACHE_DIR`` to move the cache, or ``SIM_NO_CACHE=1`` to bypass it.

The cache is bounded: after each store, least-recently-used entries are deleted until
the total is within ``SIM_CACHE_MAX_MB`` MiB (default :data:`DEFAULT_MAX_MB`). Only files
the cache itself writes are ever counted or deleted: ``<kind>/<32 hex digits>.npz`` and
its temporary files, in the real (not symlinked) folders of :data:`KINDS` directly under
the cache folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VERSION = "2"  # bump when the layout of cached arrays changes
LOADER_VERSION = "4"  # bump when parsing a map file changes what it yields (a key part)

DEFAULT_MAX_MB = 1024
MAX_MB_ENV = "SIM_CACHE_MAX_MB"
MIB = 1 << 20

# the cache's folders; a new kind of entry is added here
KINDS = ("network", "travel", "boundaries", "webfont")  # webfont: the report's CJK subsets
_ENTRY = re.compile(r"[0-9a-f]{32}\.npz")
# a store's temporary file (and those of older versions: tempfile's "tmpXXXXXXXX.tmp")
_TEMP = re.compile(r"\.[0-9a-f]{32}-[a-z0-9_]{8}\.npz\.tmp|tmp[a-z0-9_]{8}\.tmp")
_STALE_TEMP_S = 3600.0  # a temporary file this old belongs to a store that was killed


def cache_dir() -> Path | None:
    """Where cached arrays live, or ``None`` when caching is switched off."""
    if os.environ.get("SIM_NO_CACHE"):
        return None
    root = os.environ.get("SIM_CACHE_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chengguan-sim"


def limit() -> tuple[int, str | None]:
    """The size limit in bytes (``SIM_CACHE_MAX_MB`` MiB), and a problem with that setting.

    A value that is not a finite number ≥ 0 is ignored (the default applies) and the
    problem is returned so ``python -m sim cache`` can show it. ``0`` keeps nothing.
    """
    raw = os.environ.get(MAX_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_MB * MIB, None
    try:
        mb = float(raw)
    except ValueError:
        mb = math.nan
    if not (math.isfinite(mb) and mb >= 0):
        problem = (
            f"{MAX_MB_ENV}={raw!r} is not a size in MiB (a number ≥ 0); using {DEFAULT_MAX_MB}"
        )
        return DEFAULT_MAX_MB * MIB, problem
    return int(mb * MIB), None


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
    """The arrays stored under ``kind/key``, or ``None`` if absent or unreadable.

    A hit marks the entry as recently used (its modification time), for eviction.
    """
    root = cache_dir()
    if root is None:
        return None
    path = root / kind / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None
    with contextlib.suppress(OSError):
        os.utime(path, follow_symlinks=False)
    return arrays


def store(kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Save arrays under ``kind/key`` atomically, then evict down to the size limit.

    A cache that cannot be written is skipped: it only saves time.
    """
    root = cache_dir()
    if root is None:
        return
    if kind not in KINDS or not _ENTRY.fullmatch(f"{key}.npz"):
        raise ValueError(f"cache entry {kind}/{key}: not of the cache's naming (see KINDS)")
    folder = root / kind
    max_bytes = limit()[0]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _tag(root)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{key}-", suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, allow_pickle=False, **arrays)
            if Path(name).stat().st_size > max_bytes:  # would evict everything, then itself
                raise OSError("larger than the cache's limit")
            Path(name).replace(folder / f"{key}.npz")
        finally:
            Path(name).unlink(missing_ok=True)
    except OSError:
        pass  # not stored; older entries are still held to the limit
    evict(max_bytes)


def _tag(root: Path) -> None:
    """Mark the folder as a cache (https://bford.info/cachedir/) so backups skip it."""
    tag = root / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This folder holds arrays cached by the chengguan-sim dispatch simulator.\n"
            "# Show or empty it with: python -m sim cache [--clear]\n",
            encoding="utf-8",
        )


@dataclass(frozen=True)
class Entry:
    """One file the cache wrote."""

    path: Path
    kind: str
    size: int
    used: float  # last use (modification time), seconds since the epoch
    temporary: bool  # a store's unfinished temporary file


def entries(root: Path | None = None) -> list[Entry]:
    """Every file of the cache's own naming under ``root`` (default: the cache folder).

    Symlinks, folders of another naming and files of another naming are left out, so
    nothing found here was written by anyone but the cache.
    """
    root = cache_dir() if root is None else root
    if root is None:
        return []
    return list(_scan(root))


def _scan(root: Path) -> Iterator[Entry]:
    try:
        kinds = list(os.scandir(root))
    except OSError:
        return
    for kdir in kinds:
        if not (kdir.name in KINDS and kdir.is_dir(follow_symlinks=False)):
            continue
        try:
            files = list(os.scandir(kdir.path))
        except OSError:
            continue
        for f in files:
            own = _ENTRY.fullmatch(f.name)
            temp = _TEMP.fullmatch(f.name)
            if not (own or temp):
                continue
            try:
                if not f.is_file(follow_symlinks=False):
                    continue
                st = f.stat(follow_symlinks=False)
            except OSError:
                continue
            yield Entry(Path(f.path), kdir.name, st.st_size, st.st_mtime, bool(temp))


def _remove(entry: Entry) -> bool:
    """Delete one of the cache's files; whether it is gone now."""
    try:
        entry.path.unlink()
    except FileNotFoundError:
        return True  # another process evicted it
    except OSError:
        return False
    return True


def evict(max_bytes: int, root: Path | None = None) -> int:
    """Delete least-recently-used entries until the cache holds at most ``max_bytes``.

    Temporary files of stores killed long ago go first. Returns the bytes freed.
    """
    found = entries(root)
    now = time.time()
    stale = [e for e in found if e.temporary and now - e.used > _STALE_TEMP_S]
    freed = sum(e.size for e in stale if _remove(e))
    live = [e for e in found if e not in stale]
    total = sum(e.size for e in live)
    for e in sorted((e for e in live if not e.temporary), key=lambda e: e.used):
        if total <= max_bytes:
            break
        if _remove(e):
            freed += e.size
            total -= e.size
    return freed


@dataclass
class Usage:
    """What the cache holds: per kind, the number of entries and their bytes."""

    folder: Path | None
    limit: int
    limit_problem: str | None
    kinds: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(size for _, size in self.kinds.values())

    @property
    def count(self) -> int:
        return sum(n for n, _ in self.kinds.values())


def usage() -> Usage:
    """The cache folder, its limit and what it holds (temporary files count to their kind)."""
    max_bytes, problem = limit()
    root = cache_dir()
    out = Usage(root, max_bytes, problem)
    for e in sorted(entries(root), key=lambda e: e.kind):
        n, size = out.kinds.get(e.kind, (0, 0))
        out.kinds[e.kind] = (n + (not e.temporary), size + e.size)
    return out


def clear() -> tuple[int, int]:
    """Delete every file of the cache's own naming; ``(files, bytes)`` deleted.

    Kind folders left empty are removed too; anything else in the folder stays.
    """
    root = cache_dir()
    if root is None:
        return 0, 0
    removed = [e for e in entries(root) if _remove(e)]
    for kind in KINDS:
        with contextlib.suppress(OSError):
            (root / kind).rmdir()  # only when empty
    return len(removed), sum(e.size for e in removed)


def file_digest(path: Path, block: int = 1 << 22) -> str:
    """SHA-256 of a file's content, read in blocks so a large file is never held in memory."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while data := fh.read(block):
            h.update(data)
    return h.hexdigest()
