"""Small-count suppression for partners (shared/domain.md §4.3).

A count of 1 or 2 sites is shown as "<3". A table of counts with a known total would give a
single hidden cell away (total minus the shown cells), and two hidden cells away when they
must both be 1 or both be 2, so further cells are hidden as "suppressed" (complementary
suppression) until no hidden cell can be worked out from the total and the shown cells.
The check reasons as someone who knows this rule would: a "<3" cell holds 1 or 2, a
"suppressed" one at least 3 (else it would read "<3"), and the hidden cells add up to the
total minus the shown ones.
"""
from __future__ import annotations

from typing import Collection, Mapping

SMALL = "<3"
COMPLEMENT = "suppressed"
MIN_SHOWN = 3  # counts below this (and above 0) are never shown
MIN_SITES_FOR_PERCENT = 5  # percentages only over at least this many sites
PEOPLE_ROUNDING = -1  # people counts to the nearest 10


def small_count(value: int | None) -> int | str | None:
    """A single count as a partner sees it."""
    if value is None or isinstance(value, str):
        return value
    return SMALL if 0 < value < MIN_SHOWN else value


def rounded_people(value: int | float | None) -> int | None:
    return None if value is None else int(round(value, PEOPLE_ROUNDING))


def is_hidden(value: object) -> bool:
    return value in (SMALL, COMPLEMENT)


def suppress_cells(cells: Mapping[str, int], total: int, *,
                   also_hide: Collection[str] = ()) -> dict[str, int | str] | None:
    """The cells (which add up to `total`) with small counts hidden and enough others hidden
    that none can be worked out; `also_hide`: cells to hide as "suppressed" in any case (e.g. a
    column total whose column hides a cell elsewhere). None when no table of these cells can be
    shown safely: the caller then shows no cells at all."""
    shown: dict[str, int | str] = {key: small_count(value) for key, value in cells.items()}
    for key in also_hide:
        if isinstance(shown.get(key), int) and shown[key] > 0:
            shown[key] = COMPLEMENT
    while recoverable(shown, total):
        candidates = sorted((value, key) for key, value in shown.items() if isinstance(value, int) and value > 0)
        if not candidates:
            return None
        shown[candidates[0][1]] = COMPLEMENT
    return shown


def _bounds(value: object, rest: int) -> tuple[int, int]:
    return (1, MIN_SHOWN - 1) if value == SMALL else (MIN_SHOWN, rest)


def recoverable(shown: Mapping[str, int | str], total: int) -> bool:
    """Whether some hidden cell has only one value consistent with the total and the shown cells."""
    hidden = [value for value in shown.values() if is_hidden(value)]
    if not hidden:
        return False
    rest = total - sum(value for value in shown.values() if isinstance(value, int))
    bounds = [_bounds(value, rest) for value in hidden]
    low_sum = sum(low for low, _ in bounds)
    high_sum = sum(high for _, high in bounds)
    for low, high in bounds:
        least = max(low, rest - (high_sum - high))
        most = min(high, rest - (low_sum - low))
        if least >= most:
            return True
    return False
