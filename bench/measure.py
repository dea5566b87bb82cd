"""Small measuring helpers: medians, percentiles, peak memory, and one figure's record."""
from __future__ import annotations

import gc
import statistics
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator


@dataclass
class Figure:
    """One reported number with its goal; `ok` is None when there is no goal to meet."""

    key: str
    label: str
    value: float | None
    unit: str
    goal: str = ""
    ok: bool | None = None
    note: str = ""
    detail: dict = field(default_factory=dict)
    # The cheapest way this machine does the same work, measured in the same run, and
    # value / floor: the machines' speed moves 2x from day to day, a ratio much less.
    floor: float | None = None
    ratio: float | None = None

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "SKIP"
        return {True: "PASS", False: "MISS", None: "-"}[self.ok]

    def as_dict(self) -> dict:
        return {**asdict(self), "verdict": self.verdict}


def at_most(key: str, label: str, value: float, unit: str, limit: float, **extra) -> Figure:
    return Figure(key, label, value, unit, goal=f"< {limit:g} {unit}", ok=value < limit, **extra)


def at_least(key: str, label: str, value: float, unit: str, floor: float, **extra) -> Figure:
    return Figure(key, label, value, unit, goal=f">= {floor:g} {unit}", ok=value >= floor, **extra)


def versus_floor(key: str, label: str, value: float, floor: float, unit: str, *,
                 at_most_x: float | None = None, at_least_x: float | None = None, **extra) -> Figure:
    """A figure judged by its ratio to a floor measured in the same run: `at_most_x` for
    times (value <= at_most_x * floor), `at_least_x` for rates (value >= at_least_x * floor)."""
    ratio = value / floor if floor else float("inf")
    if at_most_x is not None:
        goal, ok = f"<= {at_most_x:g}x floor", ratio <= at_most_x
    elif at_least_x is not None:
        goal, ok = f">= {at_least_x:g}x floor", ratio >= at_least_x
    else:
        goal, ok = "", None
    return Figure(key, label, value, unit, goal=goal, ok=ok, floor=floor, ratio=round(ratio, 2), **extra)


def info(key: str, label: str, value: float, unit: str, **extra) -> Figure:
    return Figure(key, label, value, unit, **extra)


def skipped(key: str, label: str, note: str) -> Figure:
    return Figure(key, label, None, "", note=note)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a p99 is a latency someone really waited)."""
    ordered = sorted(values)
    rank = max(1, int(round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(function: Callable[[], object]) -> float:
    """Seconds one call takes, with a collection beforehand so an old heap does not bill it."""
    gc.collect()
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - started)
