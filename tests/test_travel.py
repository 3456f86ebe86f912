"""Travel tables against plain Dijkstra, and the on-disk cache behind them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from scipy.sparse.csgraph import dijkstra

from sim.engine.dispatch import dispatcher_for
from sim.scenario import GeneratedMap
from sim.world import cache
from sim.world.mapgen import generate_city
from sim.world.network import StreetNetwork, read_map_file
from sim.world.travel import TravelTable


@pytest.fixture(scope="module")
def city() -> tuple[StreetNetwork, np.ndarray]:
    net, _ = generate_city(GeneratedMap(offices_x=2, offices_y=2, office_size_m=1000, block_m=100))
    posts = np.random.default_rng(3).integers(0, net.n, 60)
    posts[:5] = posts[0]  # several units at one post
    return net, posts


def test_table_lists_every_unit_within_the_cutoff_nearest_first(
    city: tuple[StreetNetwork, np.ndarray],
) -> None:
    net, posts = city
    cutoff = 900.0
    table = TravelTable(net, posts, cutoff)
    full = dijkstra(net.lengths, indices=posts)
    for node in np.random.default_rng(0).integers(0, net.n, 40):
        units, dist = table.candidates(int(node))
        assert set(units.tolist()) == set(np.flatnonzero(full[:, node] <= cutoff).tolist())
        assert np.all(np.diff(dist) >= 0)
        assert np.allclose(dist, full[units, node], rtol=1e-6)
        assert np.allclose(table.to_node(int(node)), full[:, node], rtol=1e-6)
        far = int(np.argmax(full[:, node]))
        assert table.outbound(far, int(node)) == pytest.approx(full[far, node], rel=1e-6)


def test_ties_break_by_unit_order(city: tuple[StreetNetwork, np.ndarray]) -> None:
    net, posts = city
    units, _ = TravelTable(net, posts, 5000).candidates(int(posts[0]))
    assert units[:5].tolist() == [0, 1, 2, 3, 4]


def test_one_way_return_trips_use_the_reverse_graph() -> None:
    net = read_map_file(ROOT / "maps" / "aguascalientes" / "aguascalientes.osm.bz2", two_way=False)
    posts = np.arange(0, net.n, 97)
    table = TravelTable(net, posts, 1500)
    fwd = dijkstra(net.lengths, indices=posts)
    back = dijkstra(net.lengths.T.tocsr(), indices=posts)
    differs = 0
    for node in range(0, net.n, 37):
        for u in range(len(posts)):
            assert table.outbound(u, node) == pytest.approx(fwd[u, node], rel=1e-6)
            assert table.inbound(u, node) == pytest.approx(back[u, node], rel=1e-6)
            differs += not np.isclose(fwd[u, node], back[u, node])
    assert differs > 0


def test_cache_gives_the_same_arrays_and_survives_corruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, city: tuple[StreetNetwork, np.ndarray]
) -> None:
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path))
    net, posts = city
    first = TravelTable(net, posts, 800)
    files = list((tmp_path / "travel").glob("*.npz"))
    assert len(files) == 1
    second = TravelTable(net, posts, 800)
    for a, b in zip(first._fwd, second._fwd, strict=True):
        assert np.array_equal(a, b)
    files[0].write_bytes(b"not a zip file")
    third = TravelTable(net, posts, 800)
    assert np.array_equal(first._fwd[1], third._fwd[1])
    # a different staffing is a different key
    TravelTable(net, posts[:-1], 800)
    assert len(list((tmp_path / "travel").glob("*.npz"))) == 2


def test_network_cache_roundtrip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path))
    path = ROOT / "maps" / "aguascalientes" / "aguascalientes.osm.bz2"
    parsed = read_map_file(path, two_way=True)
    assert len(list((tmp_path / "network").glob("*.npz"))) == 1
    cached = read_map_file(path, two_way=True)
    assert cached.ids == parsed.ids and cached.crs == parsed.crs
    assert cached.content_hash() == parsed.content_hash()
    monkeypatch.setenv("SIM_NO_CACHE", "1")
    assert cache.cache_dir() is None


@pytest.mark.parametrize("minutes", [20.0, 0.01])
def test_equally_near_units_tie_to_the_lower_index_with_or_without_the_table(
    minutes: float,
) -> None:
    import sim

    data = {
        "name": "tie",
        "map": {"inline": {"nodes": [{"id": i, "x": 100.0 * i, "y": 0} for i in range(3)],
                           "edges": [{"u": 0, "v": 1}, {"u": 1, "v": 2}]}},
        "travel": {"precompute_minutes": minutes},
        "staff": {"posts": {"advisor": [{"node": 2}, {"node": 0}], "enforcer": [{"node": 1}]}},
    }  # fmt: skip
    world = sim.build_world(sim.scenario_from_dict(data))
    pick = dispatcher_for(world, "advisor").pick(world.net.index_of(1), np.ones(2, dtype=bool))
    assert pick is not None and pick[0] == 0


def test_the_crews_fast_picker_sends_whom_pick_sends(
    city: tuple[StreetNetwork, np.ndarray],
) -> None:
    """The plain-Python scan (and its array and beyond-the-cutoff fallbacks) == pick()."""
    from sim.engine.dispatch import SCAN, Dispatcher

    net, posts = city
    zeros = np.zeros(net.n, dtype=np.int32)
    table = TravelTable(net, posts, 900.0)
    dispatcher = Dispatcher("nearest", table, np.zeros(len(posts), np.int32), zeros, zeros, zeros)
    available = np.ones(len(posts), dtype=bool)
    pick = dispatcher.picker(available)  # reads ``available`` as it is updated in place
    rng = np.random.default_rng(5)
    lengths = np.diff(table.forward[0])
    assert lengths.max() > SCAN  # some nodes have more candidates than the scan checks
    seen = set()
    for share in (1.0, 0.5, 0.1, 0.02, 0.0):
        available[:] = rng.random(len(posts)) < share
        for node in rng.integers(0, net.n, 60).tolist():
            want = dispatcher.pick(node, available)
            got = pick(node)
            assert got == want
            if want is not None:
                k = table.candidates(node)[0].tolist().index(want[0]) if want[1] <= 900 else -1
                seen.add("scan" if 0 <= k < SCAN else "array" if k >= SCAN else "beyond")
            else:
                seen.add("none")
    assert seen == {"scan", "array", "beyond", "none"}
