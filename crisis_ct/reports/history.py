"""A place's score history read at a moment in the past (pure).

Scores are never overwritten (crisis_ct.scoring.models): every computation is a row with the
instant it was computed. "The phase 30 days ago" is the last computation at or before that
instant — what was known then, not what later interviews dated back to then would have said.
So an interview that arrives late (assessed 40 days ago, received yesterday) shows as a change
of the last day: that is when the cluster learned of it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from crisis_ct.timeutil import as_utc


@dataclass(frozen=True)
class ScorePoint:
    """One computation of a place's risk: when, the phase, and what else a reader's
    projection needs of it (an area's status and number of assessed sites)."""
    computed_at: datetime
    phase: int | None
    detail: Mapping = field(default_factory=dict, hash=False)


def _ordered(points: Sequence[ScorePoint]) -> list[ScorePoint]:
    return sorted(points, key=lambda point: as_utc(point.computed_at))


def as_of(points: Sequence[ScorePoint], instant: datetime) -> ScorePoint | None:
    """The last computation at or before `instant`; None when the place had no score yet."""
    known = [point for point in _ordered(points) if as_utc(point.computed_at) <= as_utc(instant)]
    return known[-1] if known else None


def baseline(points: Sequence[ScorePoint], since: datetime) -> ScorePoint | None:
    """What a change "since `since`" is measured from: the score known then, or, for a place
    first scored after it, its first score (a site assessed twice within the window rose
    within the window too)."""
    known = as_of(points, since)
    if known is not None:
        return known
    later = [point for point in _ordered(points) if as_utc(point.computed_at) > as_utc(since)]
    return later[0] if later else None


def latest(points: Sequence[ScorePoint], now: datetime) -> ScorePoint | None:
    return as_of(points, now)


def window_start(now: datetime, days: int) -> datetime:
    return as_utc(now) - timedelta(days=days)


def phase_change(before: int | None, after: int | None) -> int | None:
    """after − before; None when either is unknown (no phase is not phase 0)."""
    if before is None or after is None:
        return None
    return after - before
