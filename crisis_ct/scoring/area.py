"""Admin-area severity from site phases (shared/domain.md §2.4, §2.5, §2.6).

Refinements of the [PROP] rule, so the numbers stay defined and honest:

- Assessed = a site with a phase whose assessment has not expired. Everything else
  (never assessed, expired) only counts toward the "known" figures.
- Phase = highest p such that >= area_threshold_share of the assessed population
  lives in sites at phase >= p.
- Unknown populations (issue 12): a site without a population figure (none or 0)
  weighs as much as the area's median site population (the median over the area's
  sites with a figure), instead of nothing: before, 1,000 people at phase 1 outweighed
  two unknown-size sites at phase 5 and the area read phase 1. When no site in the area
  has a figure, every assessed site weighs the same.
- Coverage = assessed population / known population of all sites when every site has
  a figure; as soon as one site has none, coverage counts sites (assessed / known
  sites), because a share of people is unknowable then (before, it read 1.0 with
  unassessed sites of unknown size). `coverage_basis` says which, and
  `sites_without_population` how many sites had no figure. population_known,
  population_assessed and population_by_phase stay the reported figures (no estimate).
- Expired sites (issue 12): they drop out of the assessed figures; `sites_expired`
  counts them so that pages can say "n expired, not counted".
- Too few assessed sites or too little coverage gives 'insufficient_data' with phase
  None (grey on the map, never phase 1). The hotspot flag and the percentages are
  still computed, because a hotspot must not hide behind missing data.
- Confidence: None without assessed sites; 'low' when data are insufficient;
  otherwise the lower median of the assessed sites' confidence, capped at 'medium'
  when coverage is below HIGH_COVERAGE.
- Percentages are 0-100 with one decimal; coverage and shares are fractions 0-1.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    from crisis_ct.scoring.catalogue import Settings

PHASES = (1, 2, 3, 4, 5)
HIGH_COVERAGE = 0.8
CONFIDENCE_LEVELS = ("low", "medium", "high")


@dataclass(frozen=True)
class SiteForArea:
    site_id: int
    population: int
    phase: int | None  # None = not assessed
    recency: str | None  # expired sites count as not assessed
    confidence: str | None

    @property
    def assessed(self) -> bool:
        return self.phase is not None and self.recency != "expired"

    @property
    def expired(self) -> bool:
        return self.phase is not None and self.recency == "expired"


@dataclass(frozen=True)
class AreaScore:
    phase: int | None
    status: str  # 'classified' | 'insufficient_data' | 'no_sites'
    sites_known: int
    sites_assessed: int
    population_known: int
    population_assessed: int
    population_coverage: float
    pct_sites_3plus: float | None
    pct_sites_4plus: float | None
    population_by_phase: Mapping[int, int] = field(hash=False)
    sites_by_phase: Mapping[int, int] = field(hash=False)
    hotspot: bool
    confidence: str | None
    # Defaults: summaries stored before these fields existed read back without them.
    sites_expired: int = 0
    sites_without_population: int = 0
    population_imputed_per_site: int | None = None  # the median a site without a figure weighs
    coverage_basis: str = "population"  # 'population' | 'sites'

    def to_dict(self) -> dict:
        return {
            "phase": self.phase,
            "status": self.status,
            "sites_known": self.sites_known,
            "sites_assessed": self.sites_assessed,
            "population_known": self.population_known,
            "population_assessed": self.population_assessed,
            "population_coverage": self.population_coverage,
            "pct_sites_3plus": self.pct_sites_3plus,
            "pct_sites_4plus": self.pct_sites_4plus,
            # JSON object keys are strings
            "population_by_phase": {str(p): self.population_by_phase.get(p, 0) for p in PHASES},
            "sites_by_phase": {str(p): self.sites_by_phase.get(p, 0) for p in PHASES},
            "hotspot": self.hotspot,
            "confidence": self.confidence,
            "sites_expired": self.sites_expired,
            "sites_without_population": self.sites_without_population,
            "population_imputed_per_site": self.population_imputed_per_site,
            "coverage_basis": self.coverage_basis,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> AreaScore:
        return cls(**{
            **data,
            "population_by_phase": {int(p): n for p, n in data["population_by_phase"].items()},
            "sites_by_phase": {int(p): n for p, n in data["sites_by_phase"].items()},
        })


def _population(site: SiteForArea) -> int:
    return max(0, site.population or 0)


def _pct(count: int, total: int) -> float | None:
    return round(100 * count / total, 1) if total else None


def threshold_phase(weight_by_phase: Mapping[int, int], share: float) -> int | None:
    """Highest p such that >= share of the total weight sits at phase >= p."""
    total = sum(weight_by_phase.values())
    if total <= 0:
        return None
    at_or_above = 0
    for phase in sorted(PHASES, reverse=True):
        at_or_above += weight_by_phase.get(phase, 0)
        if at_or_above >= share * total:
            return phase
    return min(PHASES)


def is_hotspot(phases: Sequence[int]) -> bool:
    """Any site at 5, or at least two sites at 4 (the JIAF-style flag of §2.4)."""
    return any(p == 5 for p in phases) or sum(p == 4 for p in phases) >= 2


def _area_confidence(assessed: Sequence[SiteForArea], coverage: float, classified: bool) -> str | None:
    if not assessed:
        return None
    if not classified:
        return "low"
    levels = sorted(CONFIDENCE_LEVELS.index(s.confidence) if s.confidence in CONFIDENCE_LEVELS
                    else 0 for s in assessed)
    level = levels[(len(levels) - 1) // 2]
    if coverage < HIGH_COVERAGE:
        level = min(level, 1)
    return CONFIDENCE_LEVELS[level]


def imputed_population(sites: Sequence[SiteForArea]) -> int | None:
    """The population a site without a figure counts with: the median of the area's
    site figures (None when no site, or every site, has one)."""
    figures = [p for site in sites if (p := _population(site)) > 0]
    if not figures or len(figures) == len(sites):
        return None
    return round(statistics.median(figures))


def score_area(settings: Settings, sites: Sequence[SiteForArea]) -> AreaScore:
    """Classify one admin area from all its known sites (assessed or not)."""
    # One pass over the sites: an adm1 area holds thousands and is re-scored with every
    # incremental re-score below it.
    assessed = []
    sites_by_phase = {p: 0 for p in PHASES}
    population_by_phase = {p: 0 for p in PHASES}
    weight_by_phase = {p: 0 for p in PHASES}
    population_known = 0
    without_population = 0
    expired = 0
    imputed = imputed_population(sites)
    for site in sites:
        population = _population(site)
        population_known += population
        if population <= 0:
            without_population += 1
        if site.expired:
            expired += 1
        if site.assessed:
            assessed.append(site)
            if site.phase in sites_by_phase:
                sites_by_phase[site.phase] += 1
                population_by_phase[site.phase] += population
                weight_by_phase[site.phase] += population if population > 0 else (imputed or 0)
    population_assessed = sum(population_by_phase.values())
    if population_known > 0 and not without_population:
        coverage_basis, coverage = "population", population_assessed / population_known
    else:
        coverage_basis, coverage = "sites", (len(assessed) / len(sites) if sites else 0.0)

    if not sites:
        status = "no_sites"
    elif (len(assessed) < settings.area_min_sites
          or coverage < settings.area_min_population_coverage):
        status = "insufficient_data"
    else:
        status = "classified"

    phase = None
    if status == "classified":
        weights = weight_by_phase if sum(weight_by_phase.values()) > 0 else sites_by_phase
        phase = threshold_phase(weights, settings.area_threshold_share)

    phases = [s.phase for s in assessed]
    return AreaScore(
        phase=phase,
        status=status,
        sites_known=len(sites),
        sites_assessed=len(assessed),
        population_known=population_known,
        population_assessed=population_assessed,
        population_coverage=round(coverage, 4),
        pct_sites_3plus=_pct(sum(p >= 3 for p in phases), len(phases)),
        pct_sites_4plus=_pct(sum(p >= 4 for p in phases), len(phases)),
        population_by_phase=population_by_phase,
        sites_by_phase=sites_by_phase,
        hotspot=is_hotspot(phases),
        confidence=_area_confidence(assessed, coverage, status == "classified"),
        sites_expired=expired,
        sites_without_population=without_population,
        population_imputed_per_site=imputed,
        coverage_basis=coverage_basis,
    )
