"""Early warning from the score history (pure; issue 16 item 4):

- admin areas whose phase rose since the start of the window (30 days by default);
- sites whose phase rose by two or more within the window;
- areas whose data is expiring: sites whose assessment leaves the recency window
  (crisis_ct.scoring.rules.recency_of: expired after `expired_days`) within the horizon, and
  what the area's classification becomes without them (crisis_ct.scoring.area.score_area).

A rise is measured from history.baseline (the score known at the window's start, or the first
one after it) to the latest score. Who may see which warning is crisis_ct.projection's
decision (projection.reports), not this module's."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Hashable, Iterable, Mapping, Sequence

from crisis_ct.reports.history import ScorePoint, baseline, latest, phase_change, window_start
from crisis_ct.scoring.area import AreaScore, SiteForArea, score_area
from crisis_ct.scoring.rules import recency_of

if TYPE_CHECKING:
    from crisis_ct.scoring.catalogue import Settings

WINDOW_DAYS = 30
SITE_MIN_RISE = 2
EXPIRY_HORIZON_DAYS = 30

PhaseOf = Callable[[ScorePoint], "int | None"]


def _phase(point: ScorePoint) -> int | None:
    return point.phase


@dataclass(frozen=True)
class PhaseRise:
    place: Hashable  # an admin area's or a site's id
    before: ScorePoint
    after: ScorePoint
    phase_before: int
    phase_after: int

    @property
    def rise(self) -> int:
        return self.phase_after - self.phase_before


def rises(histories: Mapping[Hashable, Sequence[ScorePoint]], now: datetime, *, days: int = WINDOW_DAYS,
          min_rise: int = 1, phase_of: PhaseOf = _phase) -> list[PhaseRise]:
    """Places whose phase (as `phase_of` reads a score: a reader's projection) rose by at
    least `min_rise` since `days` before `now`, largest rise first."""
    since = window_start(now, days)
    found = []
    for place, points in histories.items():
        before, after = baseline(points, since), latest(points, now)
        if before is None or after is None or before is after:
            continue
        change = phase_change(phase_of(before), phase_of(after))
        if change is not None and change >= min_rise:
            found.append(PhaseRise(place, before, after, phase_of(before), phase_of(after)))
    return sorted(found, key=lambda item: (-item.rise, -item.phase_after, str(item.place)))


def area_rises(histories: Mapping[Hashable, Sequence[ScorePoint]], now: datetime, *, days: int = WINDOW_DAYS,
               phase_of: PhaseOf = _phase) -> list[PhaseRise]:
    return rises(histories, now, days=days, min_rise=1, phase_of=phase_of)


def site_rises(histories: Mapping[Hashable, Sequence[ScorePoint]], now: datetime, *,
               days: int = WINDOW_DAYS) -> list[PhaseRise]:
    return rises(histories, now, days=days, min_rise=SITE_MIN_RISE)


# -- expiring data -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssessedSite:
    """A site with its current score, as the area roll-up reads it."""
    site_id: int
    pcodes: tuple[str, ...]
    population: int | None  # None: no figure (weighs as the roll-up weighs it)
    phase: int | None
    confidence: str | None
    assessment_date: date | None


@dataclass(frozen=True)
class ExpiringArea:
    pcode: str
    sites_expiring: int
    first_expiry: date  # the first day one of them counts as expired
    now: AreaScore
    after: AreaScore  # the area once the horizon has passed, with no new assessment

    @property
    def loses_classification(self) -> bool:
        return self.now.status == "classified" and self.after.status != "classified"


def expires_on(assessment_date: date, expired_days: int) -> date:
    """The first day the assessment counts as expired (older than `expired_days`)."""
    return assessment_date + timedelta(days=expired_days + 1)


def _for_area(settings: Settings, sites: Iterable[AssessedSite], as_of: date) -> list[SiteForArea]:
    return [SiteForArea(site.site_id, site.population or 0, site.phase,
                        recency_of(site.assessment_date, as_of, settings.current_days, settings.expired_days)
                        if site.assessment_date else None, site.confidence)
            for site in sites]


def expiring_areas(settings: Settings, sites: Sequence[AssessedSite], today: date, *,
                   horizon_days: int = EXPIRY_HORIZON_DAYS) -> list[ExpiringArea]:
    """Areas with sites whose assessment is not expired today but will be within the horizon,
    soonest first. Expiry runs from the assessment date, never from when the interview
    arrived: a late interview is as old as the day it was held."""
    horizon = today + timedelta(days=horizon_days)
    members: dict[str, list[AssessedSite]] = {}
    for site in sites:
        for pcode in site.pcodes:
            members.setdefault(pcode, []).append(site)
    found = []
    for pcode, area_sites in members.items():
        expiring = [site for site in area_sites if site.phase is not None and site.assessment_date is not None
                    and today < expires_on(site.assessment_date, settings.expired_days) <= horizon]
        if not expiring:
            continue
        found.append(ExpiringArea(
            pcode=pcode, sites_expiring=len(expiring),
            first_expiry=min(expires_on(site.assessment_date, settings.expired_days) for site in expiring),
            now=score_area(settings, _for_area(settings, area_sites, today)),
            after=score_area(settings, _for_area(settings, area_sites, horizon))))
    return sorted(found, key=lambda item: (item.first_expiry, item.pcode))
