"""``demand.trace``: a case log replayed as the whole demand, with the options to read it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from sim.caselog.columns import ALIASES
from sim.caselog.coords import check_crs
from sim.errors import ScenarioError, require_file
from sim.scenario.base import FILE_FIELD, _Model, base_dir_of, resolve_path

_START = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
LabelSource = str | dict[str, str | None]


class Trace(_Model):
    """Replay a case log's incidents at their times and places instead of drawing them.

    The log is read like ``python -m sim fit`` reads it (the same columns, categories,
    channels, times and coordinates); every incident's time and node come from the log,
    and everything else (discovery, dispatch, the work on scene) is drawn per replication.
    """

    file: str = Field(
        min_length=1,
        max_length=4096,
        description="the case log (CSV, .xlsx, GeoJSON or Parquet, or a run's incidents.csv)",
        json_schema_extra=FILE_FIELD,
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="field → column, e.g. {time: Opened, lon: Long}"
    )
    categories: LabelSource | None = Field(
        default=None,
        description="the log's categories → the scenario's: a mapping, or a YAML file of one",
        json_schema_extra=FILE_FIELD,
    )
    channels: LabelSource | None = Field(
        default=None,
        description="the log's sources → patrol, citizen or camera: a mapping or a YAML file",
        json_schema_extra=FILE_FIELD,
    )
    timezone: str | None = Field(default=None, description="IANA zone of the district")
    time_format: str | None = Field(default=None, max_length=100, description="strptime codes")
    crs: str | None = Field(default=None, description="wgs84, gcj02, bd09, map or an EPSG code")
    encoding: str | None = Field(default=None, max_length=40)
    start: str | None = Field(
        default=None,
        description="the log's moment placed at minute 0 of the run (YYYY-MM-DD[ HH:MM]); "
        "default: midnight before its first case",
    )
    snap_m: float = Field(
        default=250.0, gt=0, le=5000, description="farther from every street node: off the map"
    )

    @field_validator("file")
    @classmethod
    def _readable(cls, v: str, info: ValidationInfo) -> str:
        try:
            require_file(resolve_path(base_dir_of(info), v), "file", "case log")
        except ScenarioError as exc:
            raise ValueError(str(exc).removeprefix("file: ")) from None
        return v

    @field_validator("columns")
    @classmethod
    def _fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(ALIASES))
        if unknown:
            raise ValueError(f"unknown fields {', '.join(unknown)} (known: {', '.join(ALIASES)})")
        return v

    @field_validator("categories", "channels")
    @classmethod
    def _map_file(cls, v: LabelSource | None, info: ValidationInfo) -> LabelSource | None:
        if isinstance(v, str):
            try:
                require_file(resolve_path(base_dir_of(info), v), "file", "YAML file")
            except ScenarioError as exc:
                raise ValueError(str(exc).removeprefix("file: ")) from None
        return v

    @field_validator("timezone", "crs")
    @classmethod
    def _known(cls, v: str | None, info: ValidationInfo) -> str | None:
        # deferred: the zone check reads pandas, which a scenario without a trace never needs
        from sim.caselog.times import check_timezone

        check = check_timezone if info.field_name == "timezone" else check_crs
        problem = check(v) if v is not None else None
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("start")
    @classmethod
    def _start(cls, v: Any) -> str | None:
        if v is not None and (not isinstance(v, str) or not _START.match(v)):
            raise ValueError('write the start as a quoted "YYYY-MM-DD" or "YYYY-MM-DD HH:MM"')
        return v
