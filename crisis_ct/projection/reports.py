"""What each audience sees of the cluster products (the situation snapshot and early
warning), built on the area and count rules beside it (shared/domain.md §4.3):

- an area's phase at any moment of its history is the phase `areas.area` would show for that
  computation, so a partner's "rose since 30 days ago" compares two phases they could see;
- site-level products — sites whose phase jumped, areas whose data is expiring (site by site
  ages), the indicators that drive phases — are for experts and above;
- partners see counts of sites (by domain, by recency) and of tasks with 1–2 as "<3", and a
  set of counts that adds up to a shown total under complementary suppression;
- partners see the data's median age only over at least 3 assessed sites, and never the
  oldest or newest assessment date (one site's date)."""
from __future__ import annotations

from typing import Mapping

from crisis_ct.accounts.principal import Principal
from crisis_ct.projection import areas, counts
from crisis_ct.projection.audience import sees_site_level


def area_phase(principal: Principal, operation_id: int, level: int, computation: Mapping) -> int | None:
    """The phase of one computation of an area (phase, status, sites_assessed) as shown: only
    its phase is read, so no site counts are asked for."""
    return areas.area(principal, operation_id, {"level": level, **computation}, lambda _operation: {}).get("phase")


def sees_site_warnings(principal: Principal, operation_id: int) -> bool:
    """Sites whose phase jumped and areas whose data is expiring."""
    return sees_site_level(principal, operation_id)


def sees_indicators(principal: Principal, operation_id: int) -> bool:
    """Which indicators drive the phases (under the small-site rule, projection.sites)."""
    return sees_site_level(principal, operation_id)


def count(principal: Principal, operation_id: int, value: int | None) -> int | str | None:
    """A single count of sites or tasks."""
    return value if sees_site_level(principal, operation_id) else counts.small_count(value)


def cells(principal: Principal, operation_id: int, values: Mapping[str, int], total: int) -> dict | None:
    """Counts that add up to a shown `total` (e.g. sites by recency); None: none can be shown."""
    if sees_site_level(principal, operation_id):
        return dict(values)
    return counts.suppress_cells(values, total)


def data_age(principal: Principal, operation_id: int, ages_days: list[int]) -> dict:
    """The age of the assessments in use: median, and for experts the oldest and newest."""
    ages = sorted(ages_days)
    site_level = sees_site_level(principal, operation_id)
    if not ages or (not site_level and len(ages) < counts.MIN_SHOWN):
        return {"median_days": None, "oldest_days": None, "newest_days": None}
    return {"median_days": ages[(len(ages) - 1) // 2],
            "oldest_days": ages[-1] if site_level else None,
            "newest_days": ages[0] if site_level else None}
