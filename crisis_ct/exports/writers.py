"""CSV, XLSX and GeoJSON as iterators of byte chunks, so a response (or a file) receives rows
as they are read: memory stays bounded by a batch, not by the export.

- CSV: a header row, then the HXL hashtag row, then the data (what HDX and HXL tools read).
- XLSX: openpyxl's write-only workbook, which keeps no cells in memory; it is written to a
  temporary file (a zip needs its directory at the end) and that file is streamed out.
- GeoJSON: a FeatureCollection written feature by feature.
"""
from __future__ import annotations

import csv
import io
import tempfile
from typing import Iterable, Iterator, Mapping, Sequence

import orjson

from crisis_ct.exports.columns import Column
from crisis_ct.products import DISCLAIMER

CHUNK_ROWS = 500
FILE_CHUNK = 256 * 1024
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


# Text a spreadsheet would run as a formula (a site name from an import, say): kept as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value as a spreadsheet cell: lists joined with spaces, dicts as JSON, None empty, and
    text that starts like a formula quoted with a leading apostrophe (CSV and XLSX alike)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = " ".join(str(item) for item in value)
    elif isinstance(value, dict):
        value = orjson.dumps(value).decode()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(columns: Sequence[Column], rows: Iterable[Mapping]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    writer.writerow([c.hxl for c in columns])
    pending = 0
    for row in rows:
        writer.writerow([cell(row.get(c.key)) for c in columns])
        pending += 1
        if pending >= CHUNK_ROWS:
            yield _drain(buffer)
            pending = 0
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def xlsx_chunks(columns: Sequence[Column], rows: Iterable[Mapping], *, title: str = "export") -> Iterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append([c.header for c in columns])
    sheet.append([c.hxl for c in columns])
    for row in rows:
        sheet.append([cell(row.get(c.key)) for c in columns])
    notes = workbook.create_sheet("about")
    notes.append([DISCLAIMER["en"]])
    notes.append([DISCLAIMER["fr"]])
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(FILE_CHUNK):
            yield chunk


def geojson_chunks(features: Iterable[Mapping], *, name: str) -> Iterator[bytes]:
    """`features`: GeoJSON Feature mappings; a geometry already written as JSON text by the
    database may be an orjson.Fragment."""
    head = orjson.dumps({"type": "FeatureCollection", "name": name, "disclaimer": DISCLAIMER})
    yield head[:-1] + b',"features":['
    first = True
    batch: list[bytes] = []
    for feature in features:
        batch.append((b"" if first else b",") + orjson.dumps(feature))
        first = False
        if len(batch) >= CHUNK_ROWS:
            yield b"".join(batch)
            batch = []
    batch.append(b"]}")
    yield b"".join(batch)
