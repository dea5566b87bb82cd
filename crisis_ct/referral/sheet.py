"""The service-mapping sheet, in and out: CSV or XLSX, one row per provider, keyed by
P-codes, a header row of column names and (on export, optional on import) an HXL tag row.

Lists in a cell (service types, P-codes, languages) are separated by ';'. The P-codes a
provider covers go in the column of their admin level. Reading returns plain rows with their
sheet row number, so the import can name the row and the field of every mistake.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

# (column, HXL tag). HXL: shared/domain.md §5.4; #meta / custom attributes where no core tag fits.
COLUMNS = (
    ("provider_code", "#meta+id"),
    ("organisation", "#org+name"),
    ("service_types", "#service+code"),
    ("adm1_pcodes", "#adm1+code"),
    ("adm2_pcodes", "#adm2+code"),
    ("adm3_pcodes", "#adm3+code"),
    ("service_point_name", "#loc+name"),
    ("latitude", "#geo+lat"),
    ("longitude", "#geo+lon"),
    ("languages", "#meta+languages"),
    ("opening_hours", "#meta+opening_hours"),
    ("focal_point_role", "#contact+role"),
    ("office_phone", "#contact+phone"),
    ("office_email", "#contact+email"),
    ("referral_requirements", "#description+requirements"),
    ("last_verified_on", "#date+verified"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)
HXL_TAGS = dict(COLUMNS)
PCODE_COLUMNS = {"adm1_pcodes": 1, "adm2_pcodes": 2, "adm3_pcodes": 3}
MAX_ROWS = 5000
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SheetUnreadable(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, unknown columns)."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    cells: dict[str, str]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_from_table(table: Iterable[list]) -> list[SheetRow]:
    iterator = iter(table)
    header = next(iterator, None)
    if not header or not any(_text(cell) for cell in header):
        raise SheetUnreadable("the sheet is empty: the first row must name the columns")
    names = [_text(cell).lower() for cell in header]
    unknown = [name for name in names if name and name not in COLUMN_NAMES]
    if unknown:
        raise SheetUnreadable(f"unknown column {unknown[0]!r} (columns: {', '.join(COLUMN_NAMES)})")
    if "organisation" not in names:
        raise SheetUnreadable("the sheet needs an 'organisation' column")
    rows = []
    for number, values in enumerate(iterator, start=2):
        cells = {name: _text(value) for name, value in zip(names, values) if name}
        if not any(cells.values()):
            continue
        if number == 2 and all(not value or value.startswith("#") for value in cells.values()):
            continue  # the HXL tag row
        rows.append(SheetRow(number, cells))
        if len(rows) > MAX_ROWS:
            raise SheetUnreadable(f"more than {MAX_ROWS} rows")
    return rows


def read_sheet(data: bytes, filename: str = "") -> list[SheetRow]:
    """CSV (UTF-8, with or without BOM; ',' or ';' separated) or XLSX (its first sheet)."""
    if data[:2] == b"PK" or filename.lower().endswith(".xlsx"):
        return _rows_from_table(_xlsx_table(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetUnreadable("not UTF-8 text: save the CSV as UTF-8, or send an .xlsx file") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return _rows_from_table(csv.reader(io.StringIO(text), delimiter=delimiter))


def _xlsx_table(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SheetUnreadable("not a readable .xlsx workbook") from exc
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


# --- out ----------------------------------------------------------------------------------------

def provider_cells(provider, level_of: dict[str, int]) -> dict[str, str]:
    """One provider (crisis_ct.referral.models.ServiceProvider, with `lon`/`lat` read beside it)
    as the sheet's cells; `level_of`: P-code -> admin level."""
    by_level = {1: [], 2: [], 3: []}
    for pcode in provider.pcodes:
        by_level.setdefault(level_of.get(pcode, 1), []).append(pcode)
    return {
        "provider_code": provider.code,
        "organisation": provider.organisation,
        "service_types": ";".join(provider.service_type_codes),
        **{column: ";".join(by_level.get(level, [])) for column, level in PCODE_COLUMNS.items()},
        "service_point_name": provider.service_point_name or "",
        "latitude": "" if provider.lat is None else f"{provider.lat:.6f}",
        "longitude": "" if provider.lon is None else f"{provider.lon:.6f}",
        "languages": ";".join(provider.languages or ()),
        "opening_hours": provider.opening_hours or "",
        "focal_point_role": provider.focal_point_role or "",
        "office_phone": provider.office_phone or "",
        "office_email": provider.office_email or "",
        "referral_requirements": provider.referral_requirements or "",
        "last_verified_on": provider.last_verified_on.isoformat() if provider.last_verified_on else "",
    }


def _table(rows: Iterable[dict[str, str]]) -> list[list[str]]:
    return [list(COLUMN_NAMES), [HXL_TAGS[name] for name in COLUMN_NAMES],
            *([row.get(name, "") for name in COLUMN_NAMES] for row in rows)]


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: free text from the directory
    # must not run as one (CSV injection). A phone number such as +33 … keeps its digits.
    first = value[:1]
    risky = first in ("=", "@") or (first in ("+", "-") and not value[1:2].isdigit())
    return "'" + value if risky else value


def write_csv(rows: Iterable[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, row in enumerate(_table(rows)):
        writer.writerow(row if number < 2 else [_safe_cell(value) for value in row])
    return out.getvalue().encode("utf-8")


def write_xlsx(rows: Iterable[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "service mapping"
    for number, row in enumerate(_table(rows)):
        sheet.append(row if number < 2 else [_safe_cell(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
