"""Issue 8, item 9: mutated scenarios are valid (exit 0) or refused (exit 2), never a crash.

Hypothesis mutates small valid scenarios the way a planner's typing does: wrong types,
signs and magnitudes (1e300, 5e-324, 2**64), non-finite numbers, missing, unknown and
duplicated keys, sizes near the bounds, wrong nesting, broken YAML text. Every mutant
goes through ``python -m sim validate`` (in-process) which must answer 0 or 2 without a
traceback. Memory is bounded by the small base scenarios and ``--max-memory`` (the
budget must refuse the rest), and as a backstop by an address-space rlimit while the
test runs; a hang is caught by an alarm.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import resource
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from conftest import queue_scenario
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main

GENERATED: dict[str, Any] = {
    "name": "fuzz",
    "seed": 3,
    "duration": {"days": 1, "warmup_hours": 2},
    "map": {
        "generate": {
            "offices_x": 2,
            "offices_y": 2,
            "office_size_m": 400,
            "block_m": 100,
            "missing_links": 0.1,
            "seed": 3,
        },
        "grid_size_m": 200,
    },
    "travel": {"speed_kmh": {"ebike": 15}, "precompute_minutes": 15},
    "staff": {
        "per_km2": 40,
        "per_km2_by_office": {},
        "mix": {"grid": 0.4, "advisor": 0.35, "enforcer": 0.25},
        "shifts": {
            "advisor": [
                {"start": "07:00", "end": "19:00", "share": 0.6},
                {"start": "19:00", "end": "07:00", "share": 0.4},
            ]
        },
    },
    "demand": {
        "incidents_per_day": 300,
        "categories": {
            "vending": {
                "share": 0.7,
                "persuasion": {"dist": "lognormal", "mean": 8, "sd": 4},
                "success": 0.8,
                "handling": {"dist": "uniform", "low": 5, "high": 20},
            },
            "noise": {
                "share": 0.3,
                "persuasion": {"dist": "exponential", "mean": 6},
                "success": 0.9,
            },
        },
        "hotspots": [
            {
                "name": "market",
                "x": 400,
                "y": 400,
                "radius_m": 150,
                "incidents_per_hour": 3,
                "start": "18:00",
                "end": "02:00",
                "categories": {"vending": 1.0},
            }
        ],
    },
    "discovery": {"citizen": {"probability": 0.5, "delay": {"dist": "fixed", "value": 5}}},
    "rules": {"advisor_minutes": 10, "enforcer_minutes": 10, "target": 0.95},
    "dispatch": {"policy": "own_grid_first"},
    "evaluation": {
        "month_days": 1,
        "fund": {"rewards": [0.5, 0.3], "deductions": [0.1]},
        "units": [
            {
                "name": "bureau",
                "group": "district_bureaus",
                "scores": {"third_party": 90, "street_offices": 80},
            }
        ],
    },
}

INLINE: dict[str, Any] = {
    **queue_scenario(servers=2, mean_service=5, per_min=0.1, days=1),
    "name": "fuzz-inline",
}
INLINE["map"]["inline"]["nodes"].append({"id": 1, "x": 300, "y": 0})
INLINE["map"]["inline"]["edges"] = [{"u": 0, "v": 1, "length": 300}]
INLINE["demand"]["scheduled"] = [{"at_min": 30, "node": 1, "category": "only"}]

BASES = [GENERATED, INLINE]
MAX_MEMORY = "400M"  # the budget's 300 MiB for the interpreter plus ~140k street nodes
ADDRESS_SPACE = 3 * 2**30  # more than the running interpreter may add while fuzzing
SECONDS = 60  # per example: a hang, not a slow validation

INF = math.inf
EDGE_NUMBERS = [
    0, -1, 1, 0.5, -0.0, 1e300, -1e300, 1e-300, 5e-324, 1.7976931348623157e308,
    INF, -INF, math.nan, 2**63, 2**64, -(2**63), 10**30, 19.999, 20, 49.9, 50,
    100, 101, 1000, 1000.0001, 2160, 2161, 3660, 3661, 10_000, 1e6, 1e7, 1e7 + 1,
]  # fmt: skip
EDGE_STRINGS = [
    "", "x", "10:00", "24:00", "25:00", "07:60", "nan", ".inf", "1e300", "..", "../..",
    "/etc/passwd", "lognormal", "fixed", "nearest", "x" * 300, "金水", "a: b", "- 1",
]  # fmt: skip
NUMBERS = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
)
STRINGS = st.one_of(st.sampled_from(EDGE_STRINGS), st.text(max_size=12))
SCALARS = st.one_of(NUMBERS, STRINGS, st.none(), st.booleans())
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=30),
    st.dictionaries(STRINGS, SCALARS, max_size=3),
    st.just({"dist": "lognormal", "mean": 1e-300, "sd": 1e300}),
    st.just({"dist": "gamma", "mean": 2}),
    st.just([{"start": "00:00", "end": "24:00", "share": 1.0}] * 49),
)
TEXT_EDITS = ["duplicate", "delete", "indent", "dedent", "truncate", "tab", "tag", "anchor"]


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in nested data: the root, each key of a mapping, each list item."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from paths(value, (*prefix, i))


def get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def put(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    get(data, path[:-1])[path[-1]] = value
    return data


def scaled(value: Any, power: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    try:
        return value * 10.0**power
    except OverflowError:
        return math.copysign(INF, value)


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    """A base scenario with one to three structural mutations."""
    data: Any = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(data))))
        kind = draw(
            st.sampled_from(["replace", "scale", "delete", "wrap", "unknown", "bound", "grow"])
        )
        here = get(data, path)
        if kind == "replace":
            data = put(data, path, draw(VALUES))
        elif kind == "scale":
            data = put(data, path, scaled(here, draw(st.integers(-310, 310))))
        elif kind == "delete" and path:
            del get(data, path[:-1])[path[-1]]
        elif kind == "wrap":
            data = put(data, path, draw(st.sampled_from([[here], {"value": here}, {"": here}])))
        elif kind == "unknown" and isinstance(here, dict):
            here[draw(STRINGS)] = draw(SCALARS)
        elif kind == "bound":  # sizes at and just past the bounds of the fields that grow
            field = draw(
                st.sampled_from(
                    [
                        ("map", "generate", "offices_x"),
                        ("map", "generate", "offices_y"),
                        ("map", "generate", "office_size_m"),
                        ("map", "generate", "block_m"),
                        ("map", "grid_size_m"),
                        ("travel", "precompute_minutes"),
                        ("staff", "per_km2"),
                        ("demand", "incidents_per_day"),
                        ("duration", "days"),
                        ("duration", "warmup_hours"),
                    ]
                )
            )
            value = draw(
                st.sampled_from([0, 1, 19, 20, 49, 50, 100, 101, 240, 241, 1000, 1001, 2160,
                                 2161, 3660, 3661, 5000, 50_000, 50_001, 1e7, 1e7 + 1])
            )  # fmt: skip
            with contextlib.suppress(KeyError, TypeError, IndexError):
                get(data, field[:-1])[field[-1]] = value
        elif kind == "grow" and isinstance(here, list) and here:
            data = put(data, path, here * draw(st.sampled_from([2, 50, 1000])))
    return data


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """A mutant as YAML text, sometimes with the text itself edited (keys twice, indents)."""
    text = yaml.safe_dump(draw(mutated_data()), allow_unicode=True, sort_keys=False)
    for _ in range(draw(st.integers(0, 2))):
        lines = text.splitlines()
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(TEXT_EDITS))
        if edit == "duplicate":
            lines.insert(i, lines[i])
        elif edit == "delete":
            del lines[i]
        elif edit == "indent":
            lines[i] = "  " + lines[i]
        elif edit == "dedent":
            lines[i] = lines[i].removeprefix("  ")
        elif edit == "truncate":
            lines = lines[: i + 1]
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif edit == "tab":
            lines[i] = "\t" + lines[i]
        elif edit == "tag":
            lines.insert(i, 'seed: !!python/object/apply:os.system ["echo never"]')
        elif edit == "anchor":  # the billion-laughs shape, kept small
            lines.insert(i, "description: &a [*a]")
        text = "\n".join(lines) + "\n"
    return text


class TooSlow(BaseException):
    """Raised by the alarm: not an ``Exception``, so the CLI cannot turn it into exit 1."""


def _alarm(signum: int, frame: object) -> None:
    raise TooSlow


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Fail the example after ``seconds``; cap the address space meanwhile."""
    vm_kb = next(
        int(line.split()[1])
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmSize:")
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = vm_kb * 1024 + ADDRESS_SPACE
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    old = signal.signal(signal.SIGALRM, _alarm)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, old)


def validate(text: str) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutant.yaml"
        path.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with bounded(SECONDS), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(path), "--max-memory", MAX_MEMORY])
    return code, out.getvalue(), err.getvalue()


def test_the_base_scenarios_are_valid() -> None:
    for base in BASES:
        code, out, err = validate(yaml.safe_dump(base, sort_keys=False))
        assert code == 0, err
        assert "valid." in out


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_text())
def test_a_mutated_scenario_is_valid_or_refused_never_a_crash(text: str) -> None:
    code, out, err = validate(text)
    event(f"exit {code}")
    assert code in (0, 2), f"exit {code}\n{err}\n--- scenario ---\n{text}"
    assert "Traceback" not in err
    if code == 0:
        assert "valid." in out
    else:
        lines = err.splitlines()
        problems = [line for line in lines if line.startswith("  ")]
        assert lines[0].startswith("error: ") and problems, err
        assert all(len(line) < 2000 for line in lines), "a problem line echoes a huge value"
