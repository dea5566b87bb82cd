"""A site's phase over time as coordinates for a small inline SVG, computed on the
server: the CSP forbids inline script, and a chart this small needs no library."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

PHASES = (1, 2, 3, 4, 5)
WIDTH = 320
HEIGHT = 120
# Room for the phase numbers on the left and half a marker at the edges.
LEFT, RIGHT, TOP, BOTTOM = 22, 8, 8, 8


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float | None  # None: that computation gave no phase
    phase: int | None
    computed_at: datetime
    current: bool


@dataclass(frozen=True)
class HistoryChart:
    width: int
    height: int
    points: tuple[ChartPoint, ...]
    path: str  # SVG path data of the phase line, steps between computations
    phase_rows: tuple[tuple[int, float], ...]  # (phase, y) for the grid lines and labels

    @property
    def has_line(self) -> bool:
        return bool(self.path)


def phase_y(phase: int, height: int = HEIGHT) -> float:
    """Phase 5 at the top, phase 1 at the bottom."""
    span = height - TOP - BOTTOM
    return round(TOP + span * (max(PHASES) - phase) / (len(PHASES) - 1), 1)


def _x_positions(times: Sequence[datetime], width: int) -> list[float]:
    span = width - LEFT - RIGHT
    if len(times) == 1:
        return [LEFT + span / 2]
    first, last = min(times), max(times)
    total = (last - first).total_seconds()
    if total <= 0:
        # All computed at the same moment (a full re-scoring): spread them evenly.
        return [round(LEFT + span * i / (len(times) - 1), 1) for i in range(len(times))]
    return [round(LEFT + span * (t - first).total_seconds() / total, 1) for t in times]


def _step_path(points: Sequence[ChartPoint]) -> str:
    """Horizontal then vertical steps: a phase holds until the next computation changes it.
    A computation without a phase breaks the line."""
    parts: list[str] = []
    previous: ChartPoint | None = None
    for point in points:
        if point.y is None:
            previous = None
            continue
        if previous is None:
            parts.append(f"M{point.x} {point.y}")
        else:
            parts.append(f"H{point.x} V{point.y}")
        previous = point
    return " ".join(parts)


def history_chart(history: Sequence[Mapping], width: int = WIDTH, height: int = HEIGHT) -> HistoryChart:
    """From crisis_ct.scoring.reads.site_history items (oldest first)."""
    times = [datetime.fromisoformat(item["computed_at"]) for item in history]
    xs = _x_positions(times, width) if times else []
    points = tuple(
        ChartPoint(x=x, y=phase_y(item["phase"], height) if item.get("phase") in PHASES else None,
                   phase=item.get("phase"), computed_at=when, current=bool(item.get("current")))
        for x, when, item in zip(xs, times, history)
    )
    rows = tuple((phase, phase_y(phase, height)) for phase in PHASES)
    return HistoryChart(width=width, height=height, points=points, path=_step_path(points), phase_rows=rows)
