"""Public facts about Jinshui District, drawn by hand in the design frame.

Metres east (x) and north (y) of the district centre, 34.78°N 113.67°E. What is a
public fact and what is a guess is said beside each table and in maps/jinshui/README.md;
everything else about the map is generated from these tables by the other modules.
"""

from __future__ import annotations

from dataclasses import dataclass

CENTER_LAT, CENTER_LON = 34.78, 113.67

XY = tuple[float, float]
# (English name, Chinese name, OSM highway class, control points); None = unnamed connector
Road = tuple[str | None, str | None, str, list[XY]]
# (English name, Chinese name, control points of the centre line)
River = tuple[str, str, list[XY]]
# (x0, y0, x1, y1) sketch rectangle
Rect = tuple[float, float, float, float]
# (pinyin name, Chinese name, sketch rectangles)
Office = tuple[str, str, list[Rect]]

# Built-up boundary of the 15 street offices (report era).  Irregular on purpose:
# railway on the west, old-town edge on the south, Zhengdong on the east.
OUTLINE: list[XY] = [
    (-2450, -2330),
    (-2390, -1250),
    (-2470, 0),
    (-2410, 1480),
    (-2500, 2800),
    (-2430, 3850),
    (-2250, 4250),
    (-1150, 4400),
    (0, 4620),
    (1500, 4600),
    (2600, 4450),
    (3500, 4220),
    (4300, 3850),
    (5000, 3380),
    (5550, 3080),
    (5980, 2450),
    (6060, 1000),
    (5930, -300),
    (6020, -1600),
    (5900, -2180),
    (4800, -2300),
    (3500, -2220),
    (2050, -2620),
    (900, -2740),
    (-300, -2790),
    (-1100, -2550),
    (-1800, -2620),
]

# Roads drawn by hand: (English, Chinese, highway, control points).  Names are real
# Jinshui roads; positions are an approximation of their real relative layout and
# the bends are deliberate.  English None = unnamed generated connector.
ROADS: list[Road] = [
    # --- east-west, south to north
    (
        "Chengbei Road",
        "城北路",
        "secondary",
        [(-1360, -2300), (-300, -2390), (900, -2330), (1930, -2430)],
    ),
    (None, None, "secondary", [(1920, -2150), (3000, -2080), (4420, -2040)]),
    (
        "Jinshui Road",
        "金水路",
        "primary",
        [
            (-3000, -1760),
            (-1330, -1720),
            (-360, -1640),
            (890, -1555),
            (2500, -1500),
            (4400, -1430),
            (7000, -1390),
        ],
    ),
    ("Gangdu Street", "岗杜街", "tertiary", [(-1325, -1290), (-850, -1315), (-355, -1268)]),
    (None, None, "secondary", [(-3000, -1000), (-1320, -960)]),
    ("Weiyi Road", "纬一路", "tertiary", [(900, -1420), (3150, -1370)]),
    ("Weier Road", "纬二路", "tertiary", [(900, -1280), (3150, -1235)]),
    ("Weisan Road", "纬三路", "tertiary", [(900, -1140), (3150, -1100)]),
    ("Weisi Road", "纬四路", "tertiary", [(900, -1000), (3150, -965)]),
    ("Weiwu Road", "纬五路", "secondary", [(900, -860), (2500, -830), (4400, -800)]),
    (None, None, "secondary", [(-355, -880), (900, -860)]),
    (None, None, "secondary", [(4400, -790), (5030, -760), (5800, -700)]),
    (
        "Huanghe Road",
        "黄河路",
        "secondary",
        [(-3000, -150), (-1300, -120), (910, -60), (2700, -40), (4400, 0), (7000, 30)],
    ),
    ("Hongzhuan Road", "红专路", "secondary", [(-350, 400), (910, 420), (3600, 455)]),
    (
        "Nongye Road",
        "农业路",
        "primary",
        [
            (-3000, 850),
            (-1300, 860),
            (-350, 880),
            (910, 900),
            (2700, 930),
            (4400, 960),
            (7000, 1000),
        ],
    ),
    (
        "Fengchan Road",
        "丰产路",
        "secondary",
        [(-1290, 1550), (-340, 1530), (890, 1560), (1760, 1585)],
    ),
    (
        "Dongfeng Road",
        "东风路",
        "primary",
        [
            (-3000, 2250),
            (-1260, 2230),
            (-330, 2200),
            (900, 2220),
            (2700, 2260),
            (4420, 2300),
            (7000, 2330),
        ],
    ),
    (None, None, "secondary", [(905, 2700), (2690, 2720), (3640, 2740)]),
    (
        "North 3rd Ring Road",
        "北三环",
        "primary",
        [(-3000, 3150), (-1200, 3120), (930, 3180), (2700, 3150), (4480, 3100), (7000, 3050)],
    ),
    ("Xingda Road", "兴达路", "secondary", [(-3000, 3900), (-680, 3930), (950, 3980)]),
    (None, None, "secondary", [(950, 3980), (2720, 3950), (4520, 3880)]),
    ("Guoji Road", "国基路", "secondary", [(-3000, 4560), (960, 4600), (3200, 4530)]),
    # --- north-south, west to east
    (None, None, "secondary", [(-1900, -140), (-1930, 855), (-1880, 2240), (-1920, 3140)]),
    (
        "Nanyang Road",
        "南阳路",
        "primary",
        [(-1400, -3200), (-1330, -1720), (-1300, 860), (-1260, 2230), (-1200, 3120), (-1150, 6000)],
    ),
    ("Fengqing Road", "丰庆路", "secondary", [(-700, 2215), (-720, 3140), (-680, 6000)]),
    (
        "Wenhua Road",
        "文化路",
        "primary",
        [(-360, -1640), (-350, 880), (-330, 2200), (-300, 3160), (-250, 6000)],
    ),
    (None, None, "secondary", [(300, -1600), (320, -70)]),
    ("Renmin Road", "人民路", "primary", [(-900, -3300), (200, -2450), (890, -1555)]),
    (
        "Huayuan Road",
        "花园路",
        "primary",
        [(890, -1555), (910, -60), (910, 900), (870, 1500), (900, 2220), (930, 3180), (960, 6000)],
    ),
    ("Jingyi Road", "经一路", "tertiary", [(1180, -1545), (1185, -55)]),
    ("Jinger Road", "经二路", "tertiary", [(1460, -1535), (1465, -50)]),
    (
        "Jingsan Road",
        "经三路",
        "secondary",
        [(1740, -1528), (1745, -48), (1760, 1585), (1770, 2240), (1790, 3165), (1820, 4650)],
    ),
    ("Jingsi Road", "经四路", "tertiary", [(2020, -1520), (2025, -45)]),
    ("Jingwu Road", "经五路", "tertiary", [(2300, -1512), (2305, -43)]),
    ("Jingliu Road", "经六路", "tertiary", [(2580, -1505), (2585, -41)]),
    ("Jingqi Road", "经七路", "tertiary", [(2860, -1497), (2865, -38)]),
    ("Jingba Road", "经八路", "secondary", [(3140, -1490), (3150, 940)]),
    (None, None, "secondary", [(2640, 925), (2680, 2255), (2700, 3150), (2750, 4600)]),
    ("Chengdong Road", "城东路", "secondary", [(1960, -3000), (1900, -1525)]),
    (None, None, "secondary", [(2750, -2900), (2700, -1500)]),
    ("Duling Street", "杜岭街", "tertiary", [(1330, -2380), (1360, -1545)]),
    (
        "Dongming Road",
        "东明路",
        "secondary",
        [(3620, -2600), (3600, -1450), (3580, 940), (3620, 2270), (3660, 3140), (3700, 4300)],
    ),
    (
        "Weilai Road",
        "未来路",
        "primary",
        [(4450, -3000), (4400, -1430), (4380, 960), (4420, 2300), (4480, 3100), (4550, 6000)],
    ),
    (
        "Beilin Road",
        "北林路",
        "secondary",
        [(5050, -2600), (5030, -760), (5000, 975), (5050, 2310), (5080, 3080)],
    ),
    (
        "Zhongzhou Avenue",
        "中州大道",
        "primary",
        [(5850, -3000), (5800, -1390), (5750, 1000), (5700, 2330), (5650, 4000)],
    ),
]

# Waterways (no roads along them): local streets stop at their banks and only the
# drawn roads cross them.  Jinshui River passes the Dashiqiao ("big stone bridge")
# at Nanyang Road and Zijingshan Park; Dongfeng Canal cuts across the north-east.
RIVERS: list[River] = [
    (
        "Jinshui River",
        "金水河",
        [
            (-2700, -2150),
            (-2000, -2080),
            (-1330, -2030),
            (-900, -2060),
            (-560, -1960),
            (-300, -1850),
            (50, -1880),
            (400, -1820),
            (750, -1700),
            (1100, -1760),
            (1500, -1820),
            (2000, -1800),
            (2500, -1860),
            (3100, -1900),
            (3600, -1960),
            (4100, -2080),
            (4600, -2150),
            (5200, -2350),
            (5700, -2600),
            (6200, -2900),
        ],
    ),
    (
        "Dongfeng Canal",
        "东风渠",
        [
            (-2700, 3420),
            (-1800, 3380),
            (-900, 3300),
            (0, 3330),
            (900, 3000),
            (1800, 2900),
            (2700, 2830),
            (3300, 2600),
            (3900, 2480),
            (4400, 2330),
            (4900, 2000),
            (5400, 1650),
            (5800, 1400),
            (6400, 900),
        ],
    ),
]

# Unnamed tertiary bank roads along a waterway between two drawn roads:
# (waterway, offset of the bank from its centre line in metres, from road, to road).
# They follow the smoothed waterway, so they are drawn in streets.py.
RIVERSIDE_ROADS: list[tuple[str, float, str, str]] = [
    ("Dongfeng Canal", -32.0, "Huayuan Road", "Weilai Road"),
]

# Street offices (report era: 15).  Each block between drawn roads/waterways
# goes to the office whose sketch rectangle (x0, y0, x1, y1) first contains a
# point inside the block, so office boundaries follow roads and rivers.
# Known sizes: Duling ~0.9, Dashiqiao ~1.9, Nanyanglu ~3.74, Dongfenglu ~6.5 km2.
OFFICES: list[Office] = [
    ("Dashiqiao", "大石桥街道", [(-3000, -3000, -1330, -1740), (-1330, -2150, -360, -1268)]),
    ("Renminlu", "人民路街道", [(-1330, -3000, 1345, -1870), (1930, -3000, 2700, -1900)]),
    ("Duling", "杜岭街道", [(890, -1900, 2700, -1500), (1345, -2150, 1930, -1900)]),
    (
        "Nanyanglu",
        "南阳路街道",
        [(-3000, -1740, -1330, -100), (-1330, -1268, -350, -100), (-1300, -100, -350, 880)],
    ),
    ("Nanyangxincun", "南阳新村街道", [(-3000, -100, -1300, 2230), (-1300, 880, -350, 1550)]),
    ("Wenhualu", "文化路街道", [(-350, -1700, 900, 880)]),
    ("Huayuanlu", "花园路街道", [(900, -1700, 2300, 880)]),
    ("Jingbalu", "经八路街道", [(2300, -1700, 3600, 880), (2700, -3000, 3600, -1450)]),
    ("Weilailu", "未来路街道", [(3600, -3000, 5030, 880)]),
    ("Beilinlu", "北林路街道", [(5030, -3000, 7000, 2330), (4400, 880, 5030, 2330)]),
    (
        "Fengchanlu",
        "丰产路街道",
        [(-1300, 1550, -350, 2230), (-350, 880, 1740, 2230), (-330, 2230, 900, 3160)],
    ),
    ("Dongfenglu", "东风路街道", [(1740, 880, 4400, 3160), (900, 2230, 1740, 3400)]),
    ("Xingdalu", "兴达路街道", [(-3000, 2230, -700, 5000)]),
    ("Guojilu", "国基路街道", [(-700, 3160, 1740, 5000), (-700, 2230, -330, 3160)]),
    ("Fenghuangtai", "凤凰台街道", [(1740, 3160, 7000, 5000), (4400, 2330, 7000, 3160)]),
]

KNOWN_KM2 = {"Duling": 0.9, "Dashiqiao": 1.9, "Nanyanglu": 3.74, "Dongfenglu": 6.5}

# Special blocks (a point inside each): a park gets a few winding paths only, a
# campus/compound gets a sparse ring of service roads.
PARKS: list[XY] = [(1091, -1636)]  # Zijingshan Park (紫荆山公园)
COMPOUNDS: list[XY] = [(279, 650), (2447, 200), (-20, -481), (3991, -404), (1376, 4268)]


@dataclass(frozen=True)
class OnRoad:
    """A place on a drawn road: a fraction of its length, then metres north."""

    road: str
    frac: float
    north_m: float


@dataclass(frozen=True)
class HotspotFact:
    """A problem-generating place; ``at`` is a road position or a design-frame point."""

    name: str
    name_zh: str
    at: OnRoad | XY
    radius_m: int
    incidents_per_hour: float
    start: str
    end: str
    categories: dict[str, float]  # shares of the simulator's incident categories
    note: str


# Hotspots (problem-generating places).  Only Gangdu Street is from the source; the
# others, and every rate, radius and category mix, are assumptions for the demand
# model.  Scenarios read them from hotspots.geojson (demand.hotspots_from).
HOTSPOTS: list[HotspotFact] = [
    HotspotFact(
        name="Gangdu Street night market",
        name_zh="岗杜街夜市烧烤",
        at=OnRoad("Gangdu Street", 0.5, 15.0),  # just inside the office north of the street
        radius_m=170,
        incidents_per_hour=4.0,
        start="18:00",
        end="02:00",
        categories={"street_vending": 0.6, "noise": 0.2, "sanitation": 0.2},
        note="MODEL.md: 20+ open-air barbecue stalls on 300 m of Gangdu Street, south "
        "edge of Nanyanglu; evening into night (rate assumed)",
    ),
    HotspotFact(
        name="Huayuan-Nongye commercial crossroads",
        name_zh="花园路农业路商圈",
        at=(960, 850),
        radius_m=300,
        incidents_per_hour=1.5,
        start="10:00",
        end="22:00",
        categories={"street_vending": 0.4, "door_front": 0.3, "motor_parking": 0.3},
        note="Assumed: malls and office towers at a main crossroads draw daytime "
        "street-occupying vending, out-of-store business and illegal parking",
    ),
    HotspotFact(
        name="Zijingshan metro hub",
        name_zh="紫荆山地铁站",
        at=(1000, -1630),
        radius_m=250,
        incidents_per_hour=1.2,
        start="07:00",
        end="21:00",
        categories={"street_vending": 0.5, "nonmotor_parking": 0.5},
        note="Assumed: metro interchange by Zijingshan Park; vendors and "
        "non-motor-vehicle parking at the exits through the day",
    ),
    HotspotFact(
        name="Wenhua Road campus gate",
        name_zh="文化路高校门口",
        at=(-300, 650),
        radius_m=200,
        incidents_per_hour=1.0,
        start="17:00",
        end="23:00",
        categories={"street_vending": 0.6, "nonmotor_parking": 0.4},
        note="Assumed: snack stalls and scooter parking at a university gate on "
        "Wenhua Road in the evening",
    ),
]
