"""Which column of a case log holds what: recognised by common names, or given.

A log's header is matched against the names case systems use, in English (311 exports)
and Chinese (数字城管 exports, see MODEL.md), after folding case, spaces, dots, dashes
and underscores: ``Request.Type``, ``request_type`` and ``RequestType`` are one name.
``--columns time=Opened,lon=Long`` (or ``columns:`` of ``demand.trace``) names them
explicitly; a named column that is not in the header is a problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# the fields a log may give, and the names each is recognised by, best first
ALIASES: dict[str, tuple[str, ...]] = {
    "time": (
        "time",
        "reported",
        "reportedtime",
        "reporttime",
        "opened",
        "opendate",
        "created",
        "createddate",
        "createdtime",
        "createdat",
        "requesteddatetime",
        "datetime",
        "timestamp",
        "date",
        "occurred",
        "上报时间",
        "发现时间",
        "受理时间",
        "案发时间",
        "创建时间",
        "登记时间",
        "立案时间",
        "时间",
    ),
    "category": (
        "category",
        "subcategory",
        "type",
        "requesttype",
        "problemtype",
        "casetype",
        "servicename",
        "complainttype",
        "小类",
        "问题类型",
        "案件小类",
        "问题小类",
        "类别",
        "事件类型",
        "案件类型",
        "大类",
    ),
    "lon": ("(geometry lon)", "lon", "lng", "long", "longitude", "经度"),  # GeoJSON's own first
    "lat": ("(geometry lat)", "lat", "latitude", "纬度"),
    "x": ("x", "xcoord", "xcoordinate", "横坐标", "x坐标"),
    "y": ("y", "ycoord", "ycoordinate", "纵坐标", "y坐标"),
    "channel": (
        "channel",
        "source",
        "requestsource",
        "reportsource",
        "reportedby",
        "问题来源",
        "案件来源",
        "来源",
        "上报渠道",
        "上报方式",
    ),
    "closed": (
        "closed",
        "closeddate",
        "closedtime",
        "closedat",
        "结案时间",
        "处置时间",
        "办结时间",
    ),
    "id": (
        "id",
        "caseid",
        "srnumber",
        "servicerequestid",
        "uniquekey",
        "案卷编号",
        "案件编号",
        "编号",
    ),
    # who the case is against: a business, licence or party (repeat offending is exact)
    "offender": (
        "offender",
        "offenderid",
        "party",
        "partyid",
        "partyname",
        "business",
        "businessid",
        "businessname",
        "merchant",
        "merchantid",
        "merchantname",
        "vendor",
        "vendorname",
        "shop",
        "shopname",
        "store",
        "storename",
        "licence",
        "licenceno",
        "licencenumber",
        "license",
        "licenseno",
        "licensenumber",
        "当事人",
        "当事人名称",
        "违法当事人",
        "商户",
        "商户名称",
        "经营者",
        "经营户",
        "店铺",
        "店铺名称",
        "商家",
        "商家名称",
        "营业执照号",
        "统一社会信用代码",
    ),
}
FIELDS: tuple[str, ...] = tuple(ALIASES)
_FOLD = re.compile(r"[\s._\-/()（）]+")


def fold(name: str) -> str:
    """A header name with case, spaces and punctuation folded away."""
    return _FOLD.sub("", name.strip().lstrip("\ufeff")).lower()


@dataclass(frozen=True)
class Columns:
    """The header name of each field found (absent fields are not keys)."""

    names: dict[str, str]

    def get(self, field: str) -> str | None:
        return self.names.get(field)

    @property
    def has_lonlat(self) -> bool:
        return "lon" in self.names and "lat" in self.names

    @property
    def has_xy(self) -> bool:
        return "x" in self.names and "y" in self.names

    def describe(self) -> str:
        return ", ".join(f"{f}={n}" for f, n in self.names.items())


def parse_columns(text: str) -> dict[str, str]:
    """``time=Opened,lon=Long`` → ``{"time": "Opened", "lon": "Long"}``.

    Raises ``ValueError`` naming what is wrong (unknown field, no ``=``).
    """
    out: dict[str, str] = {}
    for part in (p for p in text.split(",") if p.strip()):
        field, sep, name = part.partition("=")
        field = field.strip()
        if not sep or not name.strip():
            raise ValueError(f"{part.strip()!r} is not FIELD=COLUMN")
        if field not in ALIASES:
            raise ValueError(f"unknown field {field!r} (known: {', '.join(FIELDS)})")
        out[field] = name.strip()
    return out


def find_columns(header: Sequence[str], given: Mapping[str, str]) -> tuple[Columns, list[str]]:
    """The columns of each field, and the problems (one line each).

    Given names are matched exactly, then folded; the others by :data:`ALIASES` in
    order, each header column used for one field only. A log must give a time, a
    category and coordinates (lon/lat or x/y).
    """
    problems: list[str] = []
    folded: dict[str, str] = {}
    for name in header:
        folded.setdefault(fold(str(name)), str(name))
    names: dict[str, str] = {}
    for field, name in given.items():
        if name in header:
            names[field] = name
        elif fold(name) in folded:
            names[field] = folded[fold(name)]
        else:
            problems.append(f"columns: {field}={name}: no such column in the log")
    used = set(names.values())
    for field, aliases in ALIASES.items():
        if field in names or field in given:
            continue
        for alias in aliases:
            hit = folded.get(fold(alias))
            if hit is not None and hit not in used:
                names[field] = hit
                used.add(hit)
                break
    found = Columns(names)
    shown = ", ".join(str(h) for h in header[:30]) + (" …" if len(header) > 30 else "")
    hint = f" (columns: {shown}; name it with --columns {{field}}=COLUMN)"
    for field in ("time", "category"):
        if field not in names and field not in given:
            problems.append(f"no {field} column recognised" + hint.format(field=field))
    if not (found.has_lonlat or found.has_xy) and not any(
        f in given for f in ("lon", "lat", "x", "y")
    ):
        problems.append(
            "no coordinate columns recognised: need lon/lat or x/y" + hint.format(field="lon")
        )
    return found, problems
