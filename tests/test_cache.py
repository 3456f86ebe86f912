"""The array cache: bounded by evicting least-recently-used entries, shown and cleared
by ``python -m sim cache``, and never touching a file it did not write."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.budget import gib
from sim.cli import main
from sim.world import cache

KIB = 1024


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SIM_CACHE_DIR", str(folder))
    monkeypatch.delenv("SIM_NO_CACHE", raising=False)
    monkeypatch.delenv(cache.MAX_MB_ENV, raising=False)
    return folder


def put(name: str, kib: int, kind: str = "travel") -> Path:
    """Store ``kib`` KiB of arrays under a key made from ``name``; the entry's path."""
    key = cache.digest([name])
    cache.store(kind, key, {"a": np.zeros(kib * KIB, np.uint8)})
    return Path(os.environ["SIM_CACHE_DIR"]) / kind / f"{key}.npz"


def age(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


def total(root: Path) -> int:
    return sum(e.size for e in cache.entries(root))


def test_eviction_keeps_the_total_under_the_limit_least_recently_used_first(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.MAX_MB_ENV, str(100 / 1024))  # 100 KiB: room for two entries
    a, b = put("a", 40), put("b", 40)
    age(a, 300)
    age(b, 200)
    assert cache.load("travel", cache.digest(["a"])) is not None  # a is used: now the newest
    c = put("c", 40)
    assert a.exists() and c.exists() and not b.exists()
    assert 0 < total(root) <= 100 * KIB
    d = put("d", 40, kind="network")
    assert not a.exists() and c.exists() and d.exists()  # a was then the least recently used
    assert total(root) <= 100 * KIB


def test_an_entry_larger_than_the_limit_is_not_kept(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.MAX_MB_ENV, str(50 / 1024))
    small = put("small", 20)
    big = put("big", 80)
    assert not big.exists() and small.exists()
    monkeypatch.setenv(cache.MAX_MB_ENV, "0")  # keeps nothing
    put("other", 1)
    assert cache.entries(root) == []


def foreign_files(root: Path, outside: Path, *, link_kind: bool = True) -> list[Path]:
    """Files the cache did not write, placed where a careless cleaner would delete them."""
    hexname = "0123456789abcdef0123456789abcdef.npz"
    outside.mkdir()
    target = outside / "precious.npz"
    target.write_bytes(b"x" * 5000)
    (outside / hexname).write_bytes(b"y" * 5000)
    (root / "travel").mkdir(parents=True, exist_ok=True)
    (root / "photos").mkdir()
    files = [
        root / "notes.txt",
        root / hexname,  # not in a kind folder
        root / "travel" / "notes.npz",
        root / "travel" / f"{hexname}.bak",
        root / "photos" / hexname,  # not one of the cache's kinds
    ]
    for f in files:
        f.write_bytes(b"z" * 3000)
    (root / "travel" / "fedcba9876543210fedcba9876543210.npz").symlink_to(target)
    if link_kind:  # a kind folder that is a link to a folder elsewhere
        (root / "network").symlink_to(outside, target_is_directory=True)
    return [*files, target, outside / hexname]


def test_eviction_and_clear_leave_foreign_files_alone(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = put("mine", 10)
    theirs = foreign_files(root, tmp_path / "elsewhere")
    assert [e.path for e in cache.entries(root)] == [mine]
    monkeypatch.setenv(cache.MAX_MB_ENV, "0")
    put("more", 10)
    assert not mine.exists()
    assert all(f.exists() for f in theirs)
    assert (tmp_path / "elsewhere" / "precious.npz").read_bytes() == b"x" * 5000
    monkeypatch.delenv(cache.MAX_MB_ENV)
    again = put("again", 10)
    size = again.stat().st_size
    assert cache.clear() == (1, size)
    assert not again.exists()
    assert all(f.exists() for f in theirs)
    assert cache.entries(root) == []


def test_stale_temporary_files_of_killed_stores_are_removed(root: Path) -> None:
    folder = root / "travel"
    folder.mkdir(parents=True)
    stale = folder / f".{'a' * 32}-abcd_123.npz.tmp"
    fresh = folder / f".{'b' * 32}-efgh_456.npz.tmp"  # another process is writing it now
    stale.write_bytes(b"0" * 100)
    fresh.write_bytes(b"0" * 100)
    age(stale, 2 * 3600)
    put("x", 1)
    assert not stale.exists() and fresh.exists()


def test_sim_cache_shows_size_and_clear_frees_only_its_own_files(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert f"cache folder: {root} (not created yet)" in out and "size: 0 B in 0 entries" in out
    put("a", 300)
    put("b", 200)
    put("n", 100, kind="network")
    theirs = foreign_files(root, tmp_path / "elsewhere", link_kind=False)
    size = total(root)
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert f"cache folder: {root}\n" in out
    assert f"size: {gib(size)} in 3 entries" in out
    assert "limit: 1.0 GiB" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert lines["travel"][0] == "2" and lines["network"][0] == "1"
    assert " ".join(lines["travel"][1:]) == gib(
        sum(e.size for e in cache.entries(root) if e.kind == "travel")
    )

    assert main(["cache", "--clear"]) == 0
    out = capsys.readouterr().out
    assert f"3 file(s) deleted, {gib(size)} freed" in out
    assert cache.entries(root) == []
    assert all(f.exists() for f in theirs)
    assert (root / "notes.txt").read_bytes() == b"z" * 3000


def test_a_bad_limit_setting_is_shown_and_the_default_used(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("lots", "-5", "nan", "inf"):
        monkeypatch.setenv(cache.MAX_MB_ENV, bad)
        max_bytes, problem = cache.limit()
        assert max_bytes == cache.DEFAULT_MAX_MB * cache.MIB and problem and repr(bad) in problem
        assert main(["cache"]) == 0
        err = capsys.readouterr().err
        assert f"warning: {cache.MAX_MB_ENV}='{bad}'" in err
    monkeypatch.setenv(cache.MAX_MB_ENV, "2.5")
    assert cache.limit() == (int(2.5 * cache.MIB), None)


def test_switched_off_cache_says_so(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIM_NO_CACHE", "1")
    assert main(["cache", "--clear"]) == 0
    assert "switched off" in capsys.readouterr().out


def test_only_the_caches_own_kinds_and_keys_are_stored(root: Path) -> None:
    with pytest.raises(ValueError, match="naming"):
        cache.store("../elsewhere", cache.digest(["k"]), {"a": np.zeros(1)})
    with pytest.raises(ValueError, match="naming"):
        cache.store("travel", "../../etc", {"a": np.zeros(1)})


def test_runs_fill_the_cache_and_reuse_it(root: Path, small_city: dict[str, Any]) -> None:
    sc = sim.scenario_from_dict(small_city)
    sim.run(sc, seed=1, days=0.1)
    use = cache.usage()
    assert use.kinds["travel"][0] >= 2 and use.total == total(root) > 0
    before = {e.path: e.size for e in cache.entries(root)}
    sim.run(sc, seed=2, days=0.1)  # same staff and map: the same travel tables
    assert {e.path: e.size for e in cache.entries(root)} == before
