"""PostgreSQL COPY text format, written by hand: one line per row, fields separated by tabs.

The bulk import builds its COPY lines in the helper thread that reads the next batch, so
that the thread talking to the database only joins and sends them (psycopg's write_row
formats every value in the sending thread). Pure: no database.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

import orjson

from crisis_ct.timeutil import as_utc

__all__ = ["NULL", "escape", "field", "json_bytes", "json_field", "line"]

NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")


def escape(text: str) -> str:
    """Text as one COPY field: backslash, tab, newline and carriage return escaped."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def json_bytes(value: object) -> bytes:
    """A JSON column's value as one COPY field, UTF-8, serialised as crisis_ct.db.json_dumps
    does. orjson escapes control characters inside strings, so only backslashes need doubling."""
    data = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    return data.replace(b"\\", b"\\\\") if b"\\" in data else data


def json_field(value: object) -> str:
    """json_bytes as text, for a line built as text."""
    return json_bytes(value).decode()


def field(value: object) -> str:
    """A scalar column's value (text, number, date, aware datetime, boolean) or NULL."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return str(as_utc(value))  # isoformat with a space, which PostgreSQL reads
    if isinstance(value, (int, float, date)):
        return str(value)
    raise TypeError(f"no COPY text for a {type(value).__name__} value")


def line(fields: Iterable[str]) -> str:
    """One row of already-encoded fields."""
    return "\t".join(fields) + "\n"
