"""The whole scenario: the sections together, the double-ten rules, dispatch and run length."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from sim.distributions import Duration, Uniform
from sim.scenario.base import (
    _NAME_RE,
    _Model,
    per_role,
    resolve_path,
)
from sim.scenario.demand import (
    Demand,
    Discovery,
)
from sim.scenario.enforcement import (
    Enforcement,
)
from sim.scenario.evaluation import (
    Evaluation,
)
from sim.scenario.staff import (
    Staff,
)
from sim.scenario.streetmap import (
    MapSpec,
    Travel,
)


class _Rules(_Model):
    if TYPE_CHECKING:  # a field, after the clocks' (per_role below)
        target: float = 0.95

    def minutes(self, role: str) -> float:
        """The deadline of ``role``'s clock (``rules.<role>_minutes``)."""
        return float(getattr(self, f"{role}_minutes"))


if TYPE_CHECKING:  # the deadline of every clock of the registry (sim/roles.py), by ``minutes``
    Rules = _Rules
else:
    Rules = per_role(
        "Rules",
        _Rules,
        lambda r: (float, Field(default=r.clock.minutes, gt=0, le=1440)) if r.clock else None,
        key=lambda r: f"{r.name}_minutes",
        after={
            "target": (
                float,
                Field(default=0.95, gt=0, le=1, description="share that should be on time"),
            )
        },
    )


class Dispatch(_Model):
    policy: Literal["nearest", "own_grid_first"] = "nearest"
    advisor_turnout: Duration = Field(
        default=Uniform(dist="uniform", low=0.5, high=2.0),
        description="minutes from dispatch until the advisor sets off",
    )
    enforcer_turnout: Duration = Field(
        default=Uniform(dist="uniform", low=1.0, high=3.0),
        description="minutes from dispatch until the enforcer team sets off",
    )


MAX_DAYS = 3660.0
MAX_WARMUP_HOURS = 24.0 * 90  # a warm-up longer than a season warms nothing up


class RunLength(_Model):
    days: float = Field(default=7.0, gt=0, le=MAX_DAYS)
    warmup_hours: float = Field(default=24.0, ge=0, le=MAX_WARMUP_HOURS)


class Scenario(_Model):
    """A complete, validated scenario."""

    name: str = Field(
        min_length=1,
        max_length=64,
        description="a label, also the default results folder: letters, digits, _ - .",
        # editors' regexes know no Unicode \w: this looser pattern admits 金水 too
        json_schema_extra={"pattern": r"^[^\s./\\_-][^\s/\\]{0,63}$"},
    )
    description: str = Field(default="", max_length=10_000)
    seed: int = Field(default=1, ge=0, le=2**63 - 1)
    duration: RunLength = RunLength()
    map: MapSpec
    travel: Travel = Travel()
    staff: Staff = Staff()
    demand: Demand = Demand()
    discovery: Discovery = Discovery()
    rules: Rules = Rules()
    dispatch: Dispatch = Dispatch()
    evaluation: Evaluation = Evaluation()
    enforcement: Enforcement = Enforcement()

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator("name")
    @classmethod
    def _label(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(
                f"{v!r} is not a plain label: use letters, digits, '_', '-' and '.', "
                "starting with a letter or digit (it names the results folder)"
            )
        return v

    @model_validator(mode="after")
    def _enforcement_refs(self) -> Scenario:
        """Categories and hotspots the enforcement chain names must exist; a hotspot is
        looked for where hotspots come from, the file of ``demand.hotspots_from`` too."""
        e = self.enforcement
        problems = []
        unknown = sorted(set(e.offenders.categories) - set(self.demand.categories))
        if unknown:
            problems.append(
                f"enforcement.offenders.categories: unknown categories: {', '.join(unknown)}"
            )
        spots = {h.name for h in self.demand.hotspots}
        where = "demand.hotspots"
        src = self.demand.hotspots_from
        if src is not None:
            empty = ", which has no features" if not src.hotspots else ""
            where += f" or {src.geojson} (demand.hotspots_from{empty})"
        for key, names in (
            ("offenders.hotspots", e.offenders.hotspots),
            ("campaign.hotspots", e.campaign.hotspots),
        ):
            unknown = sorted(set(names) - spots)
            if unknown:
                problems.append(
                    f"enforcement.{key}: no hotspot named {', '.join(unknown)} in {where}"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the scenario are read from."""
        return self._base_dir

    def resolve(self, path: str) -> Path:
        """Absolute path of a file named in the scenario."""
        return resolve_path(self._base_dir, path)

    def resolved(self) -> dict[str, Any]:
        """The whole scenario with defaults filled in, as plain data."""
        return self.model_dump(mode="json")

    @property
    def horizon_min(self) -> float:
        return self.duration.warmup_hours * 60.0 + self.duration.days * 1440.0

    @property
    def warmup_min(self) -> float:
        return self.duration.warmup_hours * 60.0


def file_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """Dotted paths of every field that names a file (marked with ``FILE_FIELD``), such as
    ``map.file`` and ``demand.trace.file``: what moving a scenario to another folder rewrites."""
    out = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "x-file" in extra:
            out.append(prefix + name)
        for sub in _nested_models(info.annotation):
            out += file_fields(sub, f"{prefix}{name}.")
    return out


def _nested_models(tp: Any) -> list[type[BaseModel]]:
    """Models a field holds directly or as an optional (not in lists or mappings)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if typing.get_origin(tp) in (list, dict):
        return []
    return [m for arg in typing.get_args(tp) for m in _nested_models(arg)]


def json_schema() -> dict[str, Any]:
    """The scenario schema as JSON Schema (draft 2020-12), for editors and other tools.

    The same pydantic models validate scenarios; a test keeps the copy in
    ``scenarios/scenario.schema.json`` in step with this.
    """
    schema = Scenario.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "城管120 dispatch simulator scenario",
        **{k: v for k, v in schema.items() if k != "title"},
    }
