"""Reading case logs: formats, encodings, columns, times, coordinates, and every row counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.caselog import coords
from sim.caselog.clean import read_log
from sim.caselog.columns import find_columns, parse_columns
from sim.caselog.errors import LogError
from sim.caselog.log import REASONS
from sim.caselog.options import LogOptions, Target
from sim.scenario import DEFAULT_CATEGORIES

TARGET = Target(
    tuple(DEFAULT_CATEGORIES),
    tuple(c.name_zh for c in DEFAULT_CATEGORIES.values()),
    "EPSG:32649",  # UTM 49N: Zhengzhou
)

# ------------------------------------------------------------------ GCJ-02 / BD-09

# published conversions of other implementations: (lon, lat) in, (lon, lat) out
WGS_TO_GCJ = [
    # wandergis/coordtransform, test/app.js
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # googollee/eviltransform, its test cases (Shanghai, Shenzhen, Beijing)
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
GCJ_TO_BD = [
    # wandergis/coordtransform, test/app.js
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
]
BD_TO_GCJ = [((116.404, 39.915), (116.39762729119315, 39.90865673957631))]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * np.cos(np.radians(a[1]))
    dy = (a[1] - b[1]) * 110_540
    return float(np.hypot(dx, dy))


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_published_points(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    got = coords.wgs84_to_gcj02(*wgs)
    assert _metres((float(got[0]), float(got[1])), gcj) < 0.001


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_gcj02_to_wgs84_inverts_the_published_points(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    got = coords.gcj02_to_wgs84(*gcj)
    assert _metres((float(got[0]), float(got[1])), wgs) < 0.001


def test_the_published_one_step_inverse_is_within_its_stated_two_metres_of_ours() -> None:
    # coordtransform's gcj02towgs84(116.404, 39.915) is one correction step (1-2 m)
    got = coords.gcj02_to_wgs84(116.404, 39.915)
    published = (116.39775550083061, 39.91359571849836)
    assert 0.01 < _metres((float(got[0]), float(got[1])), published) < 2.0


@pytest.mark.parametrize(("gcj", "bd"), GCJ_TO_BD)
def test_gcj02_to_bd09_matches_published_points(
    gcj: tuple[float, float], bd: tuple[float, float]
) -> None:
    got = coords.gcj02_to_bd09(*gcj)
    assert _metres((float(got[0]), float(got[1])), bd) < 0.001


@pytest.mark.parametrize(("bd", "gcj"), BD_TO_GCJ)
def test_bd09_to_gcj02_matches_published_points(
    bd: tuple[float, float], gcj: tuple[float, float]
) -> None:
    got = coords.bd09_to_gcj02(*bd)
    assert _metres((float(got[0]), float(got[1])), gcj) < 0.001


def test_the_offsets_are_hundreds_of_metres_in_china_and_nothing_outside() -> None:
    lon, lat = np.array([113.66, -122.42]), np.array([34.77, 37.76])  # Zhengzhou, SF
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert 100 < _metres((glon[0], glat[0]), (lon[0], lat[0])) < 1000
    assert glon[1] == lon[1] and glat[1] == lat[1]
    back = coords.to_wgs84(*coords.gcj02_to_bd09(glon, glat), "bd09")
    assert np.allclose(back[0], lon, atol=1e-8) and np.allclose(back[1], lat, atol=1e-8)


# ------------------------------------------------------------------ helpers


def _log(
    tmp_path: Path, rows: list[dict[str, object]], name: str = "log.csv", **kw: object
) -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False, **kw)  # type: ignore[arg-type]
    return path


def _rows(n: int = 20) -> list[dict[str, object]]:
    return [
        {
            "上报时间": f"2024/03/{1 + i % 28:02d} {8 + i % 12:02d}:30:00",
            "小类": "占道经营" if i % 2 else "环境卫生",
            "经度": 113.66 + 0.001 * (i % 5),
            "纬度": 34.77 + 0.001 * (i % 7),
            "问题来源": "监督员上报" if i % 3 else "12345热线",
        }
        for i in range(n)
    ]


# ------------------------------------------------------------------ reading


def test_a_chinese_export_in_gbk_is_read_with_no_flags(tmp_path: Path) -> None:
    path = _log(tmp_path, _rows(), encoding="gbk")
    log = read_log(path, LogOptions(channels={"监督员上报": "patrol"}), TARGET)
    assert log.n == 20 and log.rows.read == 20
    assert log.columns.names == {
        "time": "上报时间", "category": "小类", "lon": "经度", "lat": "纬度", "channel": "问题来源",
    }  # fmt: skip
    cats = {log.categories[c] for c in log.category}
    assert cats == {"street_vending", "sanitation"}  # by their Chinese names
    assert set(log.channel.tolist()) == {0, 1}  # 监督员上报 → patrol (the map), 12345热线 → citizen
    assert pd.Timestamp(log.wall.min(), unit="s") == pd.Timestamp("2024-03-01 08:30")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_every_encoding_chinese_exports_use_reads_the_same(tmp_path: Path, encoding: str) -> None:
    sep = "\t" if encoding == "utf-16" else ","  # Excel's "Unicode text" is UTF-16 with tabs
    path = _log(tmp_path, _rows(), encoding=encoding, sep=sep)
    log = read_log(path, LogOptions(), TARGET)
    assert log.n == 20
    assert sorted(log.category.tolist()) == sorted(
        [4 if i % 2 else 0 for i in range(20)]
    )  # street_vending is the 5th category, sanitation the 1st


def test_xlsx_parquet_and_geojson_give_the_same_rows_as_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame(_rows())
    frame.to_excel(tmp_path / "log.xlsx", index=False)
    frame.to_parquet(tmp_path / "log.parquet")
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["经度"], r["纬度"]]},
            "properties": {k: v for k, v in r.items() if k not in ("经度", "纬度")},
        }
        for r in _rows()
    ]
    import json

    (tmp_path / "log.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
        encoding="utf-8",
    )
    csv = read_log(_log(tmp_path, _rows()), LogOptions(), TARGET)
    for name in ("log.xlsx", "log.parquet", "log.geojson"):
        other = read_log(tmp_path / name, LogOptions(), TARGET)
        assert other.kind == name.split(".")[1]
        np.testing.assert_array_equal(np.sort(other.wall), np.sort(csv.wall))
        np.testing.assert_allclose(np.sort(other.x), np.sort(csv.x))
        assert sorted(other.category.tolist()) == sorted(csv.category.tolist())


def test_columns_can_be_named_when_the_header_is_not_recognised(tmp_path: Path) -> None:
    rows = [{"When": "2024-01-01 10:00", "What": "noise", "E": 113.66, "N": 34.77}] * 3
    path = _log(tmp_path, [dict(r, When=f"2024-01-0{i + 1} 10:00") for i, r in enumerate(rows)])
    with pytest.raises(LogError) as err:
        read_log(path, LogOptions(), TARGET)
    assert any("no time column recognised" in p for p in err.value.problems)
    given = parse_columns("time=When,category=What,lon=E,lat=N")
    log = read_log(path, LogOptions(columns=given), TARGET)
    assert log.n == 3
    with pytest.raises(ValueError, match="unknown field"):
        parse_columns("when=When")
    _, problems = find_columns(["a", "b"], {"time": "Nope"})
    assert "columns: time=Nope: no such column in the log" in problems


def test_every_row_is_counted_once_under_its_first_reason(tmp_path: Path) -> None:
    good = {"time": "2024-01-01 10:00", "category": "noise", "lon": 113.66, "lat": 34.77, "id": 0}
    rows = [dict(good, id=i, time=f"2024-01-01 {10 + i % 10}:00") for i in range(10)]
    rows += [dict(good, id=100, time="not a time"), dict(good, id=101, time="")]
    rows += [
        dict(good, id=102, lon=None),
        dict(good, id=103, lon=0, lat=0),
        dict(good, id=104, lat=95),
    ]
    rows += [dict(good, id=105, category=""), dict(good, id=106, category="Pothole")]
    rows += [dict(good, id=107, category="Pothole"), dict(good, id=3)]  # a second copy of case 3
    path = _log(tmp_path, rows)
    log = read_log(path, LogOptions(), TARGET)
    assert log.rows.read == len(rows)
    assert log.rows.used == log.n == 10
    assert dict(log.rows.dropped) == {
        "unparseable time": 2, "no coordinates": 3, "no category": 1,
        "unmapped category": 2, "duplicate": 1,
    }  # fmt: skip
    assert log.unmapped_categories == {"Pothole": 2}
    assert set(log.rows.dropped) <= set(REASONS)


def test_a_category_map_maps_several_to_one_and_leaves_out_what_it_nulls(tmp_path: Path) -> None:
    rows = [
        {"time": f"2024-01-01 1{i}:00", "category": c, "lon": 113.66, "lat": 34.77}
        for i, c in enumerate(["Graffiti", "Posters", "Sewer", "Graffiti", "Other"])
    ]
    path = _log(tmp_path, rows)
    mapping = {"Graffiti": "small_ads", "Posters": "small_ads", "Sewer": None}
    log = read_log(path, LogOptions(categories=mapping), TARGET)
    assert [log.categories[c] for c in log.category] == ["small_ads"] * 3
    assert log.unmapped_categories == {"Sewer": 1, "Other": 1}
    assert log.unlisted_categories == {"Other"}
    with pytest.raises(LogError, match="not a category of the scenario: potholes"):
        read_log(path, LogOptions(categories={"Sewer": "potholes"}), TARGET)


def test_time_formats_are_found_from_the_data(tmp_path: Path) -> None:
    for text, expect in [
        ("1/3/20 14:22", "2020-01-03 14:22"),  # LA's M/D/YY
        ("2012-12-04 15:21:00", "2012-12-04 15:21"),
        ("2024年3月5日 08:30", "2024-03-05 08:30"),
        ("2024/03/05 08:30:00", "2024-03-05 08:30"),
    ]:
        rows = [{"time": text, "category": "noise", "lon": 113.66, "lat": 34.77}] * 2
        rows[1] = dict(rows[1], lon=113.661)
        log = read_log(_log(tmp_path, rows), LogOptions(), TARGET)
        assert pd.Timestamp(log.wall[0], unit="s") == pd.Timestamp(expect), text


def test_mixed_time_zones_need_the_district_zone(tmp_path: Path) -> None:
    rows = [
        {"time": "2024-01-01T08:00:00+08:00", "category": "noise", "lon": 113.66, "lat": 34.77},
        {"time": "2024-01-01T01:00:00Z", "category": "noise", "lon": 113.661, "lat": 34.77},
        {"time": "2024-01-01 10:00", "category": "noise", "lon": 113.662, "lat": 34.77},
    ]
    path = _log(tmp_path, rows)
    with pytest.raises(LogError) as err:
        read_log(path, LogOptions(), TARGET)
    assert err.value.problems == [
        "times carry different UTC offsets (+00:00: 1 rows, +08:00: 1 rows); give the "
        "district's zone with --timezone (e.g. Asia/Shanghai) to put them on one clock"
    ]
    log = read_log(path, LogOptions(timezone="Asia/Shanghai"), TARGET)
    hours = sorted(pd.Timestamp(t, unit="s").hour for t in log.wall)
    assert hours == [8, 9, 10]  # 01:00Z is 09:00 in Shanghai; naive times are local


def test_gcj02_coordinates_land_where_the_wgs84_ones_do(tmp_path: Path) -> None:
    wgs = _rows()
    glon, glat = coords.wgs84_to_gcj02(
        np.array([r["经度"] for r in wgs], float), np.array([r["纬度"] for r in wgs], float)
    )
    gcj = [dict(r, 经度=a, 纬度=b) for r, a, b in zip(wgs, glon, glat, strict=True)]
    a = read_log(_log(tmp_path, wgs, "wgs.csv"), LogOptions(), TARGET)
    b = read_log(_log(tmp_path, gcj, "gcj.csv"), LogOptions(crs="gcj02"), TARGET)
    c = read_log(_log(tmp_path, gcj, "gcj.csv"), LogOptions(), TARGET)  # taken as WGS84
    assert np.hypot(a.x - b.x, a.y - b.y).max() < 0.01
    assert np.hypot(a.x - c.x, a.y - c.y).min() > 100


def test_reading_in_small_chunks_gives_the_same_log(tmp_path: Path) -> None:
    path = _log(tmp_path, _rows(200))
    whole = read_log(path, LogOptions(), TARGET)
    chunked = read_log(path, LogOptions(chunk_rows=7), TARGET)
    np.testing.assert_array_equal(whole.wall, chunked.wall)
    np.testing.assert_array_equal(whole.category, chunked.category)
    assert whole.rows.as_dict() == chunked.rows.as_dict()


def test_a_log_too_big_for_memory_is_refused_up_front_with_an_estimate(tmp_path: Path) -> None:
    import functools

    from sim.budget import check_log
    from sim.errors import ResourceError

    path = _log(tmp_path, _rows(2000))
    check = functools.partial(check_log, limit=301 * 2**20)
    with pytest.raises(ResourceError) as err:
        read_log(path, LogOptions(), TARGET, check_rows=check)
    text = "\n".join(err.value.problems)
    assert "about 2,0" in text and "rows" in text  # the estimate of rows, from the first MiB


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02\x03binary\x00\xff" * 100, "not a text file"),
        (b"PK\x03\x04not really a workbook", "not a readable .xlsx workbook"),
        (b"\x1f\x8b\x08\x00compressed", "a compressed file"),
        ("上报时间,小类,经度,纬度\n".encode(), "no rows"),
        (b'{"type": "FeatureCollection", "features": 3}', "not a GeoJSON FeatureCollection"),
    ],
)
def test_files_that_are_not_logs_are_one_line_each(
    tmp_path: Path, content: bytes, expect: str
) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(content)
    with pytest.raises(LogError) as err:
        read_log(path, LogOptions(), TARGET)
    assert any(expect in p for p in err.value.problems), err.value.problems
    assert all("\n" not in p for p in err.value.problems)


def test_an_offender_column_is_recognised_by_its_name_or_given(tmp_path: Path) -> None:
    rows = [dict(r, 商户名称=("老王烧烤" if i % 2 else " ")) for i, r in enumerate(_rows())]
    log = read_log(_log(tmp_path, rows), LogOptions(), TARGET)
    assert log.offender is not None and log.columns.get("offender") == "商户名称"
    assert sorted(set(log.offender.tolist())) == ["", "老王烧烤"]
    assert (log.offender == "老王烧烤").sum() == 10  # a blank names nobody
    plain = [dict(r, Stall=f"stall {i % 3}") for i, r in enumerate(_rows())]
    assert read_log(_log(tmp_path, plain, "plain.csv"), LogOptions(), TARGET).offender is None
    given = LogOptions(columns=parse_columns("offender=Stall"))
    named = read_log(_log(tmp_path, plain, "plain.csv"), given, TARGET)
    assert named.offender is not None and len(set(named.offender.tolist())) == 3
