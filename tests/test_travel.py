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


def test_rows_from_posts_give_what_a_search_from_the_incident_gives(
    city: tuple[StreetNetwork, np.ndarray],
) -> None:
    """nearest(): the least of to_node() over the units, ties to the lower index, read
    from rows searched once per post; every row value agrees with the table's."""
    net, posts = city
    table = TravelTable(net, posts, 300.0)
    rng = np.random.default_rng(11)
    for _ in range(200):
        node = int(rng.integers(net.n))
        units = np.flatnonzero(rng.random(len(posts)) < rng.choice([0.02, 0.2, 1.0])).tolist()
        full = table.to_node(node)[units]
        want = (units[int(full.argmin())], float(full.min())) if units else None
        assert table.nearest(node, units) == want
    assert table.far_out.searches <= len(np.unique(posts))
    ptr, cand, dist = table.forward
    for node in range(0, net.n, 7):
        for u, d in zip(
            cand[ptr[node] : ptr[node + 1]], dist[ptr[node] : ptr[node + 1]], strict=True
        ):
            row = table.far_out.get(int(posts[u]))
            assert row is None or np.isnan(row[node]) or row[node] == d


def test_uncertain_roundings_are_marked_and_answered_by_a_search() -> None:
    from sim.world.travel import certified_float32

    # 1/3 lies between float32 values; a value a float64 hair from a float32 rounding
    # boundary could round either way when summed in another order
    f = np.float32(1000.0)
    boundary = (float(f) + float(np.nextafter(f, np.float32(2000.0)))) / 2
    d = np.array([0.0, 1000.0 / 3, boundary, np.nextafter(boundary, 0.0), np.inf])
    out = certified_float32(d, n_nodes=10_000, shortest_edge_m=1.0)
    assert out[0] == 0 and out[1] == np.float32(1000.0 / 3) and out[4] == np.inf
    assert np.isnan(out[2]) and np.isnan(out[3])


@pytest.mark.parametrize("cap_rows", [0, 1, 3])
def test_a_memory_cap_on_rows_changes_the_cost_not_the_answer(
    city: tuple[StreetNetwork, np.ndarray], cap_rows: int
) -> None:
    net, posts = city
    free = TravelTable(net, posts, 300.0)
    capped = TravelTable(net, posts, 300.0, far_bytes=cap_rows * 4 * net.n)
    rng = np.random.default_rng(2)
    for _ in range(100):
        node = int(rng.integers(net.n))
        units = np.flatnonzero(rng.random(len(posts)) < 0.05).tolist()
        assert capped.nearest(node, units) == free.nearest(node, units)
    assert len(capped.far_out._rows) <= cap_rows
    if cap_rows == 0:
        assert capped.far_out.searches == 0 and capped.node_searches > 0


def _overloaded_city() -> dict[str, object]:
    from conftest import SMALL_CITY

    return {
        **SMALL_CITY,
        "name": "overloaded",
        "duration": {"days": 1, "warmup_hours": 2},
        "travel": {"precompute_minutes": 1.0},  # 250 m at ebike speed: most rides go beyond
        "demand": {"incidents_per_day": 6000},
    }


def test_an_overloaded_run_searches_once_per_post_not_per_dispatch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With every unit near the incident busy, the nearest free unit beyond the cutoff is
    read from rows searched once per post, and the run sends the same units at the same
    times as when every such request searches from the incident (the old way)."""
    import sim

    scenario = sim.scenario_from_dict(_overloaded_city())
    world = sim.build_world(scenario)
    asked = {"n": 0}
    real = TravelTable.nearest

    def counted(self: TravelTable, node: int, units: list[int]) -> tuple[int, float] | None:
        asked["n"] += 1
        return real(self, node, units)

    monkeypatch.setattr(TravelTable, "nearest", counted)
    result = sim.run(scenario, world=world)
    tables = world.tables.values()
    searches = sum(t.searches for t in tables)
    posts = sum(len(np.unique(t.posts)) for t in tables)
    assert result.summary["overload"]["advisor"]["offered_load_ratio"] > 1
    assert asked["n"] > 20 * posts  # requests beyond the cutoff: many per post
    assert searches <= posts + asked["n"] // 100  # one per post (and a rare uncertain value)

    monkeypatch.setattr(TravelTable, "nearest", TravelTable._nearest_searched)
    old = sim.run(scenario, world=sim.build_world(scenario))
    for column in ("advisor", "advisor_dispatched", "advisor_arrived", "enforcer_team"):
        assert np.array_equal(result.table[column], old.table[column], equal_nan=True)


def test_many_free_units_beyond_the_cutoff_cost_at_most_two_searches_per_post(
    city: tuple[StreetNetwork, np.ndarray],
) -> None:
    """Every unit free and beyond the cutoff: the first requests search from the node;
    once as many searches were made as rows are missing, the rows are searched and the
    rest cost none."""
    net, posts = city
    table, old = TravelTable(net, posts, 50.0), TravelTable(net, posts, 50.0)
    everyone = list(range(len(posts)))
    n_posts = len(np.unique(posts))
    for node in np.random.default_rng(4).integers(0, net.n, 300).tolist():
        assert table.nearest(node, everyone) == old._nearest_searched(node, everyone)
    assert table.far_out.searches == n_posts
    assert table.searches <= 2 * n_posts + 1 + 300 // 100
