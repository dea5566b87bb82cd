"""Typed values of single answers: a question's converter turns the text a device sent
into the stored value, or into a Problem (what quarantines a submission). Pure."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from crisis_ct.kobo.formspec import Question

__all__ = ["CONVERTERS", "Problem", "as_text", "not_a_choice", "parse_geopoint"]

_DATETIME_TYPES = {"datetime", "start", "end"}


@dataclass(frozen=True)
class Problem:
    code: str  # invalid_choice, invalid_number, invalid_date, invalid_geopoint, missing_required, ...
    message: str
    question: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        return self.message


def parse_geopoint(value: str) -> tuple[float, float, float | None, float | None] | None:
    """'lat lon alt acc' (latitude first) -> (lat, lon, alt, acc); None if not a valid point."""
    parts = value.split()
    if not 2 <= len(parts) <= 4:
        return None
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if not all(math.isfinite(n) for n in numbers):
        return None
    lat, lon = numbers[0], numbers[1]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    numbers += [None] * (4 - len(numbers))
    return lat, lon, numbers[2], numbers[3]


# Converters: (question, stripped non-empty text, allowed choice codes or None) -> (value, problem).
def _as_select_one(question: Question, text: str, choices: frozenset | None) -> tuple[object, Problem | None]:
    if choices is None or text in choices:
        return text, None
    return None, not_a_choice(question, [text])


def _as_select_multiple(question: Question, text: str,
                        choices: frozenset | None) -> tuple[object, Problem | None]:
    codes = tuple(text.split())
    if choices is not None:
        outside = [c for c in codes if c not in choices]
        if outside:
            return None, not_a_choice(question, outside)
    return codes, None


def not_a_choice(question: Question, outside: list[str]) -> Problem:
    return Problem("invalid_choice",
                   f"{question.xpath}: '{' '.join(outside)}' is not a choice of list "
                   f"'{question.list_name}'", question.name, " ".join(outside))


_INT64 = 2 ** 63


def _as_integer(question: Question, text: str, _choices) -> tuple[object, Problem | None]:
    try:
        number = int(text)
    except ValueError:
        return None, _bad(question, text, "invalid_number", "is not a whole number")
    if not -_INT64 <= number < _INT64:  # answers are stored as JSON, whose writer stops at 64 bits
        return None, _bad(question, text, "number_out_of_range", "is too large to store")
    return number, None


def _as_decimal(question: Question, text: str, _choices) -> tuple[object, Problem | None]:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        return None, _bad(question, text, "invalid_number", "is not a number")
    return number, None


def _as_date(question: Question, text: str, _choices) -> tuple[object, Problem | None]:
    parsed = _parse_date(text)
    return (parsed, None) if parsed else (None, _bad(question, text, "invalid_date", "is not a date"))


def _as_datetime(question: Question, text: str, _choices) -> tuple[object, Problem | None]:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")), None
    except ValueError:
        return None, _bad(question, text, "invalid_date", "is not a date-time")


def _as_geopoint(question: Question, text: str, _choices) -> tuple[object, Problem | None]:
    point = parse_geopoint(text)
    return (point, None) if point else (None, _bad(question, text, "invalid_geopoint",
                                                   "is not a 'lat lon alt accuracy' point"))


def as_text(_question: Question, text: str, _choices) -> tuple[object, Problem | None]:
    return text, None


CONVERTERS = {
    "select_one": _as_select_one, "select_multiple": _as_select_multiple,
    "integer": _as_integer, "decimal": _as_decimal, "date": _as_date, "today": _as_date,
    **{kind: _as_datetime for kind in _DATETIME_TYPES}, "geopoint": _as_geopoint,
}


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if len(text) > 10 and text[10] in "T ":  # a date that arrived as a date-time
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None


def _bad(question: Question, text: str, code: str, why: str) -> Problem:
    return Problem(code, f"{question.xpath}: '{text}' {why}", question.name, text)
