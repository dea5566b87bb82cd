"""array_literal (crisis_ct.pg_text): the prefetch's and the claim's lists as PostgreSQL array text."""
from __future__ import annotations

from crisis_ct.pg_text import array_literal


def test_every_element_is_quoted():
    assert array_literal(["uuid:a", "b"]) == '{"uuid:a","b"}'
    assert array_literal([3, 12]) == '{"3","12"}'


def test_quotes_and_backslashes_inside_elements_are_escaped():
    assert array_literal(['a"b', "c\\d"]) == '{"a\\"b","c\\\\d"}'


def test_an_empty_list_is_an_empty_array():
    assert array_literal([]) == "{}"
