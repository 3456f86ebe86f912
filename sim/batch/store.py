"""The run store: finished runs as checked JSON files, so a batch resumes and reuses runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.analysis.measures import RUN
from sim.atomic import write_text_atomic
from sim.batch.runkeys import FORMAT, canonical
from sim.output.strictjson import dumps


class _StoredRun(BaseModel):
    """The shape a stored run record must have to be reused (see :class:`RunStore`)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    key: str
    format: str
    checksum: str
    scenario_name: str
    seed: int
    replication: int
    measures: dict[str, int | float | None]
    by_office: list[dict[str, int | float | str | None]]
    by_hour: list[dict[str, int | float | str | None]]
    by_office_hour: dict[str, list[int]] = {}  # requests, on time: office-major × 24
    warnings: list[str]
    timing: dict[str, int | float]
    scenario: dict[str, Any]


def record_checksum(record: Mapping[str, Any]) -> str:
    """SHA-256 of a run record's canonical JSON, its ``checksum`` field left out.

    Taken over the JSON round trip, so a record read back gives the same digest.
    """
    body = {k: v for k, v in record.items() if k != "checksum"}
    return hashlib.sha256(canonical(json.loads(canonical(body))).encode("utf-8")).hexdigest()


def record_problem(record: Any, key: str) -> str | None:
    """Why ``record`` is not a valid stored run for ``key``, or ``None`` when it is."""
    if not isinstance(record, dict):
        return f"not a JSON object but {type(record).__name__}"
    try:
        _StoredRun.model_validate(record)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "record"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{where}: {err['msg']}{more}"
    if record["format"] != FORMAT:
        return f"format {record['format']!r}, expected {FORMAT!r}"
    if record["key"] != key:
        return "stored under another run's key"
    missing = [m for m in RUN if m not in record["measures"]]
    if missing:
        return f"measures missing: {', '.join(missing)}"
    if record["checksum"] != record_checksum(record):
        return "its checksum does not match its content: edited or damaged"
    return None


class RunStore:
    """Finished runs as ``<dir>/<key>.json``; a valid stored run is never rewritten.

    Every record carries a checksum of its content and its shape is checked on reading
    (:func:`record_problem`): a file that is unreadable, not JSON, of the wrong shape or
    edited is treated as missing, so the run is simulated again and the file replaced,
    and one line naming the file is added to :attr:`warnings`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.warnings: list[str] = []

    def path(self, key: str) -> Path:
        return self.folder / f"{key[:32]}.json"

    def _read(self, key: str) -> tuple[dict[str, Any] | None, str | None]:
        """The valid record stored for ``key`` or ``None``, and why a file was not used."""
        p = self.path(key)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:  # a folder, no permission, not UTF-8
            return None, f"unreadable: {exc.strerror if isinstance(exc, OSError) else exc}"
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return None, f"not valid JSON: {exc}"
        problem = record_problem(record, key)
        return (None, problem) if problem else (record, None)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record of run ``key``, or ``None`` when it must be simulated."""
        record, problem = self._read(key)
        if problem is not None:
            self.warnings.append(
                f"{self.path(key)}: not a valid stored run, simulating it again: {problem}"
            )
        return record

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store a freshly simulated record with its checksum, atomically."""
        if self._read(key)[0] is None:
            body = {k: v for k, v in record.items() if k != "checksum"}
            write_text_atomic(self.path(key), dumps({**body, "checksum": record_checksum(body)}))
