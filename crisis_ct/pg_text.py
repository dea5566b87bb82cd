"""PostgreSQL text forms of Python values, sent as one parameter and cast in the statement.

psycopg adapts a Python list element by element (a tenth of a claim's time, a third of the
import prefetch's client time); the same list as one array literal costs one string."""
from __future__ import annotations

from typing import Iterable


def array_literal(values: Iterable[object]) -> str:
    """'{"a","b"}': every element quoted, so commas, braces and spaces stay inside it; cast
    it to its type in SQL (`%(ids)s::int[]`)."""
    texts = [str(value) for value in values]
    if any('"' in text or "\\" in text for text in texts):  # rare: escape element by element
        texts = [text.replace("\\", "\\\\").replace('"', '\\"') for text in texts]
    return '{"' + '","'.join(texts) + '"}' if texts else "{}"
