"""Read a Kobo export file (JSON, XLSX, CSV) back into data-endpoint records.

Operations without a server-to-Kobo connection download an export and upload it. Every
reader yields records in the shape the API sends (XPath keys, string values, `_id` as int,
repeats as lists of rows), so `normalise` gives the same result as the webhook or the pull.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Iterable, Iterator

from crisis_ct.kobo.export_json import ExportError, iter_json_records, read_json_file
from crisis_ct.kobo.formspec import FormSpec

__all__ = ["ExportError", "iter_json_records", "read_csv_export", "read_export", "read_xlsx_export"]

_GEO_PART = re.compile(r"^(?P<prefix>.*/)?_(?P<name>.+)_(?P<part>latitude|longitude|altitude|precision)$")
_GEO_ORDER = ("latitude", "longitude", "altitude", "precision")
# Export columns about the row itself, not the submission.
_ROW_COLUMNS = {"_index", "_parent_index", "_parent_table_name"}


def read_export(path: Path | str, form: FormSpec | None = None, *,
                asset_uid: str | None = None) -> Iterator[dict]:
    """Records from a JSON, XLSX or CSV export, chosen by extension, else by the first bytes.

    XLSX and CSV exports do not name the project: pass `asset_uid` to fill `_xform_id_string`.
    """
    path = Path(path)
    kind = _kind(path)
    if kind == "json":
        return read_json_file(path)
    if kind == "xlsx":
        return read_xlsx_export(path, form, asset_uid=asset_uid)
    return read_csv_export(path, form, asset_uid=asset_uid)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".json", ".xlsx", ".csv"):
        return suffix[1:]
    with path.open("rb") as handle:
        head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK"):
        return "xlsx"
    if head[:1] in (b"{", b"["):
        return "json"
    return "csv"


# -- XLSX ----------------------------------------------------------------------------------------
def read_xlsx_export(path: Path | str, form: FormSpec | None = None, *,
                     asset_uid: str | None = None) -> Iterator[dict]:
    """First sheet = main records; other sheets = repeats joined by `_index`/`_parent_index`.

    Repeat rows must be held until their parent is complete, so memory grows with repeat rows
    (not with main rows, which are streamed once all repeat sheets are indexed).
    """
    from openpyxl import load_workbook

    path = Path(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad file
        raise ExportError(path.name, None, None, f"not a readable XLSX workbook ({exc})") from exc
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise ExportError(path.name, None, None, "the workbook has no sheets")
        main = sheets[0]
        children = _repeat_rows(path.name, sheets[1:], form)
        _attach_nested(path.name, children)
        for record in _main_rows(path.name, main, form, children):
            yield _complete_metadata(record, asset_uid)
    finally:
        workbook.close()


def _sheet_rows(file: str, ws) -> Iterator[tuple[int, dict[str, Any]]]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    names = [str(h).strip() if h is not None else None for h in header]
    for number, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        yield number, {n: v for n, v in zip(names, values) if n}


@dataclass
class _RepeatTable:
    sheet: str
    xpath: str
    rows: dict[int, dict[str, Any]]  # _index -> row (already in record shape)
    parents: list[tuple[str, int, int]]  # (parent table, parent _index, own _index) in order


def _repeat_rows(file: str, sheets: Iterable, form: FormSpec | None) -> dict[str, _RepeatTable]:
    tables: dict[str, _RepeatTable] = {}
    for ws in sheets:
        table = None
        for number, raw in _sheet_rows(file, ws):
            if table is None:
                table = _RepeatTable(ws.title, _repeat_xpath(ws.title, raw, form), {}, [])
            index = _int_cell(file, number, "_index", raw.get("_index"), default=number - 1)
            parent_index = _int_cell(file, number, "_parent_index", raw.get("_parent_index"))
            parent_table = str(raw.get("_parent_table_name") or "")
            table.rows[index] = _record_values(file, number, raw, form)
            table.parents.append((parent_table, parent_index, index))
        if table is not None:
            tables[ws.title] = table
    return tables


def _repeat_xpath(sheet: str, row: dict[str, Any], form: FormSpec | None) -> str:
    if form is not None:
        for group in form.repeats:
            # Excel sheet names are cut at 31 characters.
            if group.name == sheet or group.name[:31] == sheet:
                return group.xpath
    columns = [c for c in row if not c.rsplit("/", 1)[-1].startswith("_") and "/" in c]
    if not columns:
        return sheet
    parents = [c.rsplit("/", 1)[0] for c in columns]
    common = parents[0]
    for parent in parents[1:]:
        while common and not (parent == common or parent.startswith(common + "/")):
            common = common.rsplit("/", 1)[0] if "/" in common else ""
    return common or sheet


def _attach_nested(file: str, tables: dict[str, _RepeatTable]) -> None:
    """Put rows of repeats nested in repeats into their parent repeat rows."""
    for table in tables.values():
        for parent_table, parent_index, index in table.parents:
            parent = tables.get(parent_table)
            if parent is None:
                continue
            if parent_index not in parent.rows:
                raise ExportError(file, None, "_parent_index",
                                  f"sheet '{table.sheet}' row _index {index} points to missing "
                                  f"'{parent_table}' row {parent_index}")
            parent.rows[parent_index].setdefault(table.xpath, []).append(table.rows[index])


def _main_rows(file: str, ws, form: FormSpec | None, tables: dict[str, _RepeatTable]) -> Iterator[dict]:
    by_parent: dict[int, list[tuple[str, dict]]] = {}
    for table in tables.values():
        for parent_table, parent_index, index in table.parents:
            if parent_table not in tables:  # a top-level repeat
                by_parent.setdefault(parent_index, []).append((table.xpath, table.rows[index]))
    for number, raw in _sheet_rows(file, ws):
        index = _int_cell(file, number, "_index", raw.get("_index"), default=number - 1)
        record = _record_values(file, number, raw, form)
        for xpath, row in by_parent.pop(index, []):
            record.setdefault(xpath, []).append(row)
        yield record
    if by_parent:
        orphan = min(by_parent)
        raise ExportError(file, None, "_parent_index", f"repeat rows point to main row _index {orphan}, "
                                                        f"which is not in the first sheet")


# -- CSV -------------------------------------------------------------------------------------
def read_csv_export(path: Path | str, form: FormSpec | None = None, *,
                    asset_uid: str | None = None) -> Iterator[dict]:
    """Main records of a CSV export (XML headers). Kobo's CSV has no repeat rows."""
    path = Path(path)
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        first_line = handle.readline()
        delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
        header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
        header = [h.strip() for h in header]
        _check_xml_header(path.name, header, form)
        for number, values in enumerate(csv.reader(handle, delimiter=delimiter), start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise ExportError(path.name, number, None,
                                  f"{len(values)} values for {len(header)} columns (wrong separator?)")
            record = _record_values(path.name, number, dict(zip(header, values)), form)
            yield _complete_metadata(record, asset_uid)


def _check_xml_header(file: str, header: list[str], form: FormSpec | None) -> None:
    if "_id" in header or "_uuid" in header or "meta/instanceID" in header:
        return
    raise ExportError(file, 1, None, "no _id, _uuid or meta/instanceID column: export with "
                                     "'XML values and headers', not labels")


def _complete_metadata(record: dict[str, Any], asset_uid: str | None) -> dict[str, Any]:
    """Metadata the API always sends but exports leave out, with the API's empty values."""
    if asset_uid and "_xform_id_string" not in record:
        record["_xform_id_string"] = asset_uid
    for key, empty in (("_attachments", list), ("_tags", list), ("_notes", list),
                       ("_validation_status", dict)):
        record.setdefault(key, empty())
    return record


# -- cells -> API strings ------------------------------------------------------------------------
def _record_values(file: str, number: int, raw: dict[str, Any], form: FormSpec | None) -> dict[str, Any]:
    """One export row -> the data-endpoint record shape."""
    columns = set(raw)
    choice_columns = {c: p for c in columns if (p := _choice_parent(c, columns, form)) is not None}
    record: dict[str, Any] = {}
    geo_parts: dict[str, dict[str, Any]] = {}
    for column, value in raw.items():
        if column in _ROW_COLUMNS or column in choice_columns or column.startswith("_submission__"):
            continue
        match = _GEO_PART.match(column)
        if match and _is_geopoint_part(form, match):
            geo_parts.setdefault((match["prefix"] or "") + match["name"], {})[match["part"]] = value
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        record[column] = _metadata_value(file, number, column, value) if _is_meta(column) \
            else _api_string(value, form.by_xpath(column) if form else None)
    _rebuild_selects(record, raw, choice_columns)
    for xpath, parts in geo_parts.items():
        if xpath not in record and parts.get("latitude") not in (None, ""):
            record[xpath] = " ".join(_api_string(parts.get(p) or 0, None) for p in _GEO_ORDER)
    return record


def _is_geopoint_part(form: FormSpec | None, match: re.Match) -> bool:
    """`_location_latitude` etc. are derived from geopoint `location`; without a form, trust the name."""
    if form is None:
        return True
    question = form.by_xpath((match["prefix"] or "") + match["name"])
    return question is not None and question.type == "geopoint"


def _choice_parent(column: str, columns: set[str], form: FormSpec | None) -> str | None:
    """'q/choice' or 'q.choice' is a 0/1 column of select_multiple `q`."""
    for separator in ("/", "."):
        if separator not in column:
            continue
        parent, choice = column.rsplit(separator, 1)
        if form is not None:
            question = form.by_xpath(parent)
            if question is not None and question.type == "select_multiple" and choice in question.choices:
                return parent
        elif parent in columns:
            return parent
    return None


def _rebuild_selects(record: dict[str, Any], raw: dict[str, Any], choice_columns: dict[str, str]) -> None:
    """Keep the space-separated column when present; else rebuild it from the 0/1 columns."""
    chosen: dict[str, list[str]] = {}
    for column, parent in choice_columns.items():
        chosen.setdefault(parent, [])
        if _is_one(raw[column]):
            chosen[parent].append(column[len(parent) + 1:])
    for parent, codes in chosen.items():
        if parent not in record and codes:
            ordered = [c[len(parent) + 1:] for c in raw if choice_columns.get(c) == parent]
            record[parent] = " ".join(c for c in ordered if c in codes)


def _is_one(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return str(value).strip() in ("1", "1.0", "True", "true")


def _is_meta(column: str) -> bool:
    return column.startswith("_")


def _metadata_value(file: str, number: int, column: str, value: Any) -> Any:
    if column == "_id":
        return _int_cell(file, number, column, value)
    if column == "_submission_time":
        return _datetime_string(value) if isinstance(value, datetime) else str(value).strip()
    if column in ("_tags", "_notes"):
        return [t.strip() for t in str(value).split(",") if t.strip()]
    if column == "_validation_status":
        text = str(value).strip()
        return {"uid": text} if text.startswith("validation_status_") else {"label": text}
    return _api_string(value, None)


def _api_string(value: Any, question) -> str:
    """A cell as the API would send it: integers without '.0', dates ISO, text as is."""
    kind = question.type if question is not None else None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        if kind in ("date", "today"):
            return value.date().isoformat()
        return _datetime_string(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and kind != "decimal":
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    if kind == "integer" and re.fullmatch(r"-?\d+\.0+", text):
        return text.split(".")[0]
    return text


def _datetime_string(value: datetime) -> str:
    if value.tzinfo is None and value.microsecond == 0:
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value.isoformat()


def _int_cell(file: str, number: int, column: str, value: Any, default: int | None = None) -> int:
    if value in (None, "") and default is not None:
        return default
    try:
        as_float = float(value)
        if not as_float.is_integer():
            raise ValueError
        return int(as_float)
    except (TypeError, ValueError):
        raise ExportError(file, number, column, f"'{value}' is not a whole number") from None
