"""Open a case log of any supported kind and hand it over in chunks of raw columns.

Supported: CSV or other delimited text (UTF-8, UTF-8 with a BOM, UTF-16 as Excel's
"Unicode text", or GBK/GB18030, found from the bytes or given as ``encoding``), Excel
``.xlsx`` (the first sheet), GeoJSON (a FeatureCollection of points) and Parquet. The
kind is told from the file's first bytes, not its name. Text and Parquet are streamed in
chunks, so a log of millions of rows never sits in memory as text; the rows are counted
against an estimate made up front (:func:`estimate`). Anything else (an empty file, a
binary file of another kind, a zip that is not a workbook) is a one-line problem.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.caselog.errors import LogError

SNIFF_BYTES = 1 << 20
_MAX_GEOJSON_BYTES = 1 << 30  # parsed whole: about ten times its size in memory
_SKIPPED = re.compile(r"Skipping line \d+")


@dataclass(frozen=True)
class Opened:
    """A log file whose kind, encoding, delimiter and header are known."""

    path: Path
    kind: str  # "csv", "xlsx", "geojson" or "parquet"
    header: tuple[str, ...]
    encoding: str | None = None
    delimiter: str = ","
    rows_estimate: int = 0
    bytes_per_row: float = 0.0
    # a GeoJSON log is parsed whole to learn its header: kept for the rows, not parsed again
    frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)


def _label(path: Path) -> str:
    return path.name if len(path.name) <= 120 else path.name[:120] + "…"


def open_log(path: Path, encoding: str | None = None) -> Opened:
    """The kind, encoding and header of the log at ``path`` (:class:`LogError` if unusable)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        raise LogError([f"{_label(path)}: cannot read ({exc.strerror or exc})"]) from None
    if not head.strip():
        raise LogError([f"{_label(path)}: the file is empty"])
    if head.startswith(b"PAR1"):
        return _open_parquet(path)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path)
    if head[:2] in (b"\x1f\x8b", b"BZ") or head.startswith(b"\xfd7zXZ"):
        raise LogError([f"{_label(path)}: a compressed file; unpack it first"])
    enc = encoding or _encoding(head)
    if enc is None:
        raise LogError(
            [
                f"{_label(path)}: not a text file, an .xlsx workbook, GeoJSON or Parquet "
                "(if it is text in another encoding, give --encoding)"
            ]
        )
    try:
        text = head.decode(enc, errors="ignore" if len(head) == SNIFF_BYTES else "strict")
    except (UnicodeDecodeError, LookupError) as exc:
        raise LogError([f"{_label(path)}: cannot be read as {enc} ({exc})"]) from None
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith(("{", "[")):
        return _open_geojson(path, size)
    return _open_text(path, text, enc, size)


def _encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head if len(head) < SNIFF_BYTES else head[: len(head) - 4]
    if b"\x00" in sample:
        return None
    for enc in ("utf-8", "gb18030"):
        try:
            sample.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    return None


def _open_text(path: Path, text: str, enc: str, size: int) -> Opened:
    lines = text.splitlines()
    if len(lines) == 1 and len(text) == SNIFF_BYTES:
        raise LogError([f"{_label(path)}: no line break in the first MiB: not a table"])
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    header = next(csv.reader([lines[0]], delimiter=delimiter))
    if not any(h.strip() for h in header):
        raise LogError([f"{_label(path)}: the first line is not a header of column names"])
    body = lines[1:-1] if len(lines) > 2 else lines[1:]
    per_row = (sum(len(s.encode(enc, "ignore")) + 1 for s in body) / len(body)) if body else 0.0
    rows = int(size / per_row) if per_row else 0
    return Opened(path, "csv", tuple(header), enc, delimiter, rows, per_row)


def _open_parquet(path: Path) -> Opened:
    try:
        import pyarrow.parquet as pq  # deferred: pyarrow loads only for Parquet logs

        meta = pq.ParquetFile(path)
        names = tuple(meta.schema_arrow.names)
        rows = meta.metadata.num_rows
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
        raise LogError([f"{_label(path)}: not a readable Parquet file ({exc})"]) from None
    return Opened(path, "parquet", names, rows_estimate=rows, bytes_per_row=64.0)


def _open_xlsx(path: Path) -> Opened:
    try:
        import openpyxl  # deferred: openpyxl loads only for .xlsx logs

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook, a damaged one
        raise LogError([f"{_label(path)}: not a readable .xlsx workbook ({exc})"]) from None
    try:
        sheet = book.worksheets[0]
        header: tuple[str, ...] = ()
        for row in sheet.iter_rows(values_only=True):
            if any(v is not None and str(v).strip() for v in row):
                header = tuple("" if v is None else str(v) for v in row)
                break
        rows = max((sheet.max_row or 1) - 1, 0)
    finally:
        book.close()
    if not header:
        raise LogError([f"{_label(path)}: the workbook's first sheet is empty"])
    return Opened(path, "xlsx", header, rows_estimate=rows, bytes_per_row=200.0)


def _open_geojson(path: Path, size: int) -> Opened:
    if size > _MAX_GEOJSON_BYTES:
        raise LogError(
            [
                f"{_label(path)}: {size / 2**30:.1f} GiB of GeoJSON is read whole; at most "
                f"{_MAX_GEOJSON_BYTES / 2**30:.0f} GiB (convert it to CSV or Parquet to stream it)"
            ]
        )
    frame = _geojson_frame(path)
    return Opened(
        path,
        "geojson",
        tuple(frame.columns),
        rows_estimate=len(frame),
        bytes_per_row=300.0,
        frame=frame,
    )


GEOMETRY_LON, GEOMETRY_LAT = "(geometry lon)", "(geometry lat)"


def _geojson_frame(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise LogError([f"{_label(path)}: not valid JSON ({exc})"]) from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list):
        raise LogError([f"{_label(path)}: not a GeoJSON FeatureCollection"])
    rows = []
    for f in feats:
        props = f.get("properties") if isinstance(f, dict) else None
        row = dict(props) if isinstance(props, dict) else {}
        geom = f.get("geometry") if isinstance(f, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        point = isinstance(geom, dict) and geom.get("type") == "Point"
        ok = point and isinstance(coords, list) and len(coords) >= 2
        row[GEOMETRY_LON] = coords[0] if ok else None  # type: ignore[index]
        row[GEOMETRY_LAT] = coords[1] if ok else None  # type: ignore[index]
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=[GEOMETRY_LON, GEOMETRY_LAT])
    return frame


@dataclass
class Malformed:
    """Lines the CSV reader skipped (more fields than the header), counted."""

    lines: int = 0


def chunks(opened: Opened, columns: list[str], size: int, bad: Malformed) -> Iterator[pd.DataFrame]:
    """The log's rows, ``size`` at a time, with only ``columns`` (text or native values)."""
    if opened.kind == "csv":
        yield from _csv_chunks(opened, columns, size, bad)
    elif opened.kind == "parquet":
        import pyarrow.parquet as pq  # deferred: pyarrow loads only for Parquet logs

        for batch in pq.ParquetFile(opened.path).iter_batches(batch_size=size, columns=columns):
            yield batch.to_pandas()
    elif opened.kind == "xlsx":
        yield from _xlsx_chunks(opened, columns, size)
    else:
        frame = opened.frame if opened.frame is not None else _geojson_frame(opened.path)
        for start in range(0, len(frame), size):
            yield frame.iloc[start : start + size][columns]


def _csv_chunks(
    opened: Opened, columns: list[str], size: int, bad: Malformed
) -> Iterator[pd.DataFrame]:
    reader = pd.read_csv(
        opened.path,
        encoding=opened.encoding,
        sep=opened.delimiter,
        dtype=str,
        usecols=columns,
        chunksize=size,
        on_bad_lines="warn",
        skip_blank_lines=True,
    )
    at = 0
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for chunk in reader:
                at += len(chunk)
                bad.lines += sum(len(_SKIPPED.findall(str(w.message))) for w in caught)
                caught.clear()
                yield chunk
            bad.lines += sum(len(_SKIPPED.findall(str(w.message))) for w in caught)
    except UnicodeDecodeError:
        raise LogError(
            [
                f"{_label(opened.path)}: after about {at:,} rows the text is not valid "
                f"{opened.encoding}; give its encoding with --encoding"
            ]
        ) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LogError(
            [f"{_label(opened.path)}: cannot be read as a table after about {at:,} rows ({first})"]
        ) from None
    finally:
        reader.close()


def _xlsx_chunks(opened: Opened, columns: list[str], size: int) -> Iterator[pd.DataFrame]:
    import openpyxl  # deferred: openpyxl loads only for .xlsx logs

    book = openpyxl.load_workbook(opened.path, read_only=True, data_only=True)
    try:
        index = [opened.header.index(c) for c in columns]
        rows = book.worksheets[0].iter_rows(values_only=True)
        for row in rows:  # up to the header
            if any(v is not None and str(v).strip() for v in row):
                break
        batch: list[list[object]] = []
        for row in rows:
            if not any(v is not None and str(v).strip() for v in row):
                continue
            batch.append([row[i] if i < len(row) else None for i in index])
            if len(batch) == size:
                yield pd.DataFrame(batch, columns=columns)
                batch = []
        if batch:
            yield pd.DataFrame(batch, columns=columns)
    finally:
        book.close()
