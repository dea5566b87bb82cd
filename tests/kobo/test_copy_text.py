"""copy_text: values written as PostgreSQL COPY text fields."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import orjson
import pytest

from crisis_ct.db import json_dumps
from crisis_ct.kobo.copy_text import NULL, escape, field, json_bytes, json_field, line


def test_text_without_special_characters_is_unchanged():
    assert escape("uuid:abc-123 é") == "uuid:abc-123 é"


def test_backslash_tab_newline_and_carriage_return_are_escaped():
    assert escape("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"


def test_json_field_is_the_stored_json_with_backslashes_doubled():
    value = {"note": 'a "quoted" \\ back\tslash\nline', "n": 1}
    text = json_field(value)
    assert text == json_dumps(value).replace("\\", "\\\\")
    assert "\t" not in text and "\n" not in text
    assert orjson.loads(text.replace("\\\\", "\\")) == value


def test_none_is_null():
    assert field(None) == NULL == "\\N"


def test_an_aware_datetime_is_written_in_utc():
    local = datetime(2026, 11, 2, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    assert field(local) == "2026-11-02 09:00:00+00:00"


def test_dates_numbers_and_booleans():
    assert (field(date(2026, 1, 2)), field(42), field(1.5), field(True), field(False)) == (
        "2026-01-02", "42", "1.5", "t", "f")


def test_a_value_without_a_copy_form_is_refused():
    with pytest.raises(TypeError, match="dict"):
        field({"a": 1})


def test_a_line_is_tab_separated_and_ends_with_a_newline():
    assert line(["1", NULL, "x"]) == "1\t\\N\tx\n"


def test_json_bytes_is_json_field_encoded():
    value = {"a": 'x\\y "z"', "b": [1, 2.5, None], "é": True}
    assert json_bytes(value) == json_field(value).encode()
