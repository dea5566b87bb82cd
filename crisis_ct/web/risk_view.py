"""Filtering and paging of sites and admin areas by risk, for the list view.

Plain functions over the GeoJSON property dicts the map also reads, so the list and
the map (static/js/map.js mirrors `RiskFilters.matches_site`) show the same things.
Missing risk properties mean "not assessed": the scoring module adds them.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

DOMAINS = ("V", "R", "E", "S", "C")
PHASES = (1, 2, 3, 4, 5)
# "3plus" = phase 3 or above: the JIAF "in need" threshold coordinators count.
PHASE_CHOICES = ("1", "2", "3", "4", "5", "3plus", "4plus", "none")
RECENCY_CHOICES = ("current", "ageing", "expired", "none")
ADMIN_LEVELS = (1, 2, 3)
DEFAULT_LEVEL = 2
PAGE_SIZE = 50


def as_phase(value: object) -> int | None:
    """A phase 1–5 or None; anything else the data might hold counts as not assessed."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    phase = int(value)
    return phase if phase in PHASES and phase == value else None


def phase_matches(phase: int | None, wanted: str) -> bool:
    if not wanted:
        return True
    if wanted == "none":
        return phase is None
    if phase is None:
        return False
    if wanted.endswith("plus"):
        return phase >= int(wanted[0])
    return str(phase) == wanted


@dataclass(frozen=True)
class RiskFilters:
    phase: str = ""
    domain: str = ""
    site_type: str = ""
    recency: str = ""
    level: int = DEFAULT_LEVEL

    @classmethod
    def from_args(cls, args: Mapping[str, str], site_types: Sequence[str] = ()) -> "RiskFilters":
        """Unknown values are ignored (no filter) rather than refused: a stale bookmark still opens."""
        phase = args.get("phase", "")
        domain = args.get("domain", "")
        site_type = args.get("site_type", "")
        recency = args.get("recency", "")
        try:
            level = int(args.get("level", DEFAULT_LEVEL))
        except (TypeError, ValueError):
            level = DEFAULT_LEVEL
        return cls(
            phase=phase if phase in PHASE_CHOICES else "",
            domain=domain if domain in DOMAINS else "",
            site_type=site_type if site_type in site_types else "",
            recency=recency if recency in RECENCY_CHOICES else "",
            level=level if level in ADMIN_LEVELS else DEFAULT_LEVEL,
        )

    def as_query(self) -> dict[str, str | int]:
        """The filters worth putting in a URL (the default level included, for clarity)."""
        return {key: value for key, value in asdict(self).items() if value not in ("", None)}

    def shown_phase(self, site: Mapping) -> int | None:
        """The overall site phase, or the chosen domain's phase."""
        if self.domain:
            return as_phase((site.get("domain_phases") or {}).get(self.domain))
        return as_phase(site.get("phase"))

    def matches_site(self, site: Mapping) -> bool:
        if self.site_type and site.get("site_type") != self.site_type:
            return False
        if self.recency:
            recency = site.get("recency")
            if (recency or "none") != self.recency:
                return False
        return phase_matches(self.shown_phase(site), self.phase)

    def matches_area(self, area: Mapping) -> bool:
        # Areas carry one overall phase; domain, site type and recency are site filters.
        phase = as_phase(area.get("phase")) if area.get("status", "classified") == "classified" else None
        return phase_matches(phase, self.phase)


def _worst_first(phase: int | None, name: str | None) -> tuple:
    return (-(phase or 0), (name or "").casefold())


def filter_sites(sites: Sequence[Mapping], filters: RiskFilters) -> list[Mapping]:
    """Sites that pass the filters, highest shown phase first, then by name."""
    chosen = [site for site in sites if filters.matches_site(site)]
    return sorted(chosen, key=lambda s: _worst_first(filters.shown_phase(s), s.get("name")))


def filter_areas(areas: Sequence[Mapping], filters: RiskFilters) -> list[Mapping]:
    chosen = [area for area in areas if filters.matches_area(area)]
    return sorted(chosen, key=lambda a: _worst_first(as_phase(a.get("phase")), a.get("pcode")))


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown (0 when there is none)."""
        return (self.number - 1) * self.size + 1 if self.items else 0


def paginate(items: Sequence, number: object, size: int = PAGE_SIZE) -> Page:
    """One page; a page number out of range shows the nearest existing page."""
    try:
        wanted = int(number)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        wanted = 1
    pages = max(1, math.ceil(len(items) / size))
    wanted = min(max(wanted, 1), pages)
    start = (wanted - 1) * size
    return Page(items=list(items[start:start + size]), number=wanted, size=size, total=len(items))
