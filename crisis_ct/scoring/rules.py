"""Pure site risk-scoring rules: KI answers -> indicator values -> domain phases -> site phase.

Method: shared/domain.md §1.4, §2.2-§2.6. Plain functions over frozen dataclasses;
nothing here knows about Flask, the database or files. Where the doc is a [PROP]
we refined it as follows (each refinement keeps the rules monotone where the
tests in tests/scoring/ say so):

- Rounds (§2.5, issue 12): which interviews count is decided in rounds.py. A newer
  round replaces the previous one only when it can stand alone (>= min_kis KIs with
  answers, covering the domains the previous covered); until then the previous
  round's answers keep counting, the site keeps that round's assessment date (so
  they age from it) and the explanation's `previous_round` and the rule
  'previous_round_kept' say so. Before, one late interview with one benign answer
  replaced a complete phase-5 round and the site read phase 1.
- KI aggregation (§2.5): missing codes (dnk, pnta), codes that are not choices and
  absent answers are dropped before combining. An interview with no scorable answer
  at all is not evidence: it does not define the round, does not count as a KI and
  does not make `has_woman_ki` true (a woman KI who declined every question gave us
  no women's perspective).
- Site phase (§2.3): the highest p with at least two domains >= p, i.e. the
  second-highest domain phase. When only one domain has data that domain's phase
  is used (rule 'single_domain') and confidence is 'low': calling such a site
  phase 1 would be a false all-clear. This fallback is the one place where adding
  data in another domain can lower the phase (see the tests).
- A critical indicator with a risk answer (phase >= 3) from any KI floors the site
  at 4, whatever its combined value. Phase 5 needs >= 2 confirmed critical signals
  (each from >= 2 KIs) and SVC_REFERRAL combined to its risk answer ("no"); without
  those the count rule is capped at 4.
- Confidence: 'high' = >= min_kis KIs, a woman KI, every answered critical item
  agreed (no tie, no single-KI report), completeness >= 0.5 and >= 2 domains with
  data; 'low' = fewer than min_kis KIs, completeness < 0.5 or < 2 domains; else
  'medium'. Ageing lowers one level; expired is always 'low' (age_confidence). The
  stored confidence is aged once, here: the read path ages it further only for a
  recency class crossed since it was stored (it used to age it a second time).
- Completeness = share of the listed indicator results with a phase. Transit-only
  and conditional (`asked_if`) indicators are listed only when some KI answered
  them (even dnk), because score_site does not know the site type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Mapping, Sequence

# The KI-combination step lives in combine.py; its names stay importable from here.
from crisis_ct.scoring.follow_ups import follow_up_answers, follow_ups_from_json
from crisis_ct.scoring.combine import (  # noqa: F401
    RISK_PHASE, IndicatorResult, combine_indicator, ki_reading,
)
# Rounds and recency live in rounds.py; these names stay importable from here.
from crisis_ct.scoring.rounds import (  # noqa: F401
    Picture, current_picture, day_of, previous_round_note, recency_of, round_day, select_round, split_rounds,
)

if TYPE_CHECKING:
    from crisis_ct.scoring.catalogue import Catalogue

DOMAINS = ("V", "R", "E", "S", "C")
MEDIAN_DOMAINS = frozenset({"C"})  # one missing service should not dominate capacity
CRITICAL_FLOOR_PHASE = 4
TOP_PHASE = 5
REFERRAL_INDICATOR = "SVC_REFERRAL"
MIN_COMPLETENESS = 0.5
CONFIDENCE_LEVELS = ("low", "medium", "high")



@dataclass(frozen=True)
class KiInterview:
    submission_id: int
    assessment_date: date
    ki_sex: str | None  # 'female' | 'male' | 'pnta' | None
    # indicator id -> code (str), tuple of codes (select_multiple) or number (integer)
    answers: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True)
class SiteScore:
    phase: int | None  # None only when no indicator could be scored
    domain_phases: Mapping[str, int | None] = field(hash=False)
    indicators: tuple[IndicatorResult, ...]
    drivers: tuple[str, ...]  # indicator ids that set the site phase
    rules_applied: tuple[str, ...]
    critical_signals: tuple[str, ...]  # critical, risk answer from >= 2 KIs
    unconfirmed_signals: tuple[str, ...]  # critical, risk answer from exactly 1 KI
    confidence: str  # 'high' | 'medium' | 'low'
    recency: str  # 'current' | 'ageing' | 'expired'
    n_ki: int
    has_woman_ki: bool
    completeness: float
    assessment_date: date  # latest interview date of the round
    submission_ids: tuple[int, ...]
    catalogue_version: str
    # Set when a newer round could not stand alone and this older one still counts:
    # {"submission_ids", "assessment_date", "newer_submission_ids", "reason": {en, fr}}.
    previous_round: Mapping | None = field(default=None, hash=False)
    # Follow-up id -> choices any KI of the round made (crisis_ct.scoring.follow_ups): never
    # scored, read by mitigation rules (M26's REC_OFFERS_TYPES includes travel_transport).
    follow_ups: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict:
        return {
            "phase": self.phase,
            "domain_phases": {d: self.domain_phases.get(d) for d in DOMAINS},
            "indicators": [result.to_dict() for result in self.indicators],
            "drivers": list(self.drivers),
            "rules_applied": list(self.rules_applied),
            "critical_signals": list(self.critical_signals),
            "unconfirmed_signals": list(self.unconfirmed_signals),
            "confidence": self.confidence,
            "recency": self.recency,
            "n_ki": self.n_ki,
            "has_woman_ki": self.has_woman_ki,
            "completeness": self.completeness,
            "assessment_date": self.assessment_date.isoformat(),
            "submission_ids": list(self.submission_ids),
            "catalogue_version": self.catalogue_version,
            "previous_round": self.previous_round,
            "follow_ups": {key: list(codes) for key, codes in self.follow_ups.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> SiteScore:
        return cls(
            phase=data["phase"],
            domain_phases=dict(data["domain_phases"]),
            indicators=tuple(IndicatorResult.from_dict(r) for r in data["indicators"]),
            drivers=tuple(data["drivers"]),
            rules_applied=tuple(data["rules_applied"]),
            critical_signals=tuple(data["critical_signals"]),
            unconfirmed_signals=tuple(data["unconfirmed_signals"]),
            confidence=data["confidence"],
            recency=data["recency"],
            n_ki=data["n_ki"],
            has_woman_ki=data["has_woman_ki"],
            completeness=data["completeness"],
            assessment_date=date.fromisoformat(data["assessment_date"]),
            submission_ids=tuple(data["submission_ids"]),
            catalogue_version=data["catalogue_version"],
            previous_round=data.get("previous_round"),  # absent from scores stored before 2026-12
            follow_ups=follow_ups_from_json(data.get("follow_ups")),
        )


# --- domains, site phase ------------------------------------------------------------

def _median_half_up(phases: list[int]) -> int:
    ordered = sorted(phases)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle] + 1) // 2


def domain_phases(results: Sequence[IndicatorResult]) -> dict[str, int | None]:
    """Max of each domain's indicator phases; the median (half up) for domain C."""
    phases: dict[str, int | None] = {}
    for domain in DOMAINS:
        scored = [r.phase for r in results if r.domain == domain and r.phase is not None]
        if not scored:
            phases[domain] = None
        elif domain in MEDIAN_DOMAINS:
            phases[domain] = _median_half_up(scored)
        else:
            phases[domain] = max(scored)
    return phases


def count_rule_phase(phases: Mapping[str, int | None]) -> int | None:
    """Highest p with at least two domains >= p; a lone domain with data counts alone."""
    known = sorted((p for p in phases.values() if p is not None), reverse=True)
    if not known:
        return None
    return known[1] if len(known) >= 2 else known[0]


@dataclass(frozen=True)
class _Verdict:
    phase: int | None
    drivers: tuple[str, ...]
    rules: tuple[str, ...]


def _referral_absent(results: Sequence[IndicatorResult]) -> bool | None:
    """True when SVC_REFERRAL combined to its risk answer ("no"), None when unknown."""
    for result in results:
        if result.indicator_id == REFERRAL_INDICATOR and result.phase is not None:
            return result.phase >= RISK_PHASE
    return None


def _site_verdict(results: Sequence[IndicatorResult], phases: Mapping[str, int | None]) -> _Verdict:
    rules: list[str] = []
    drivers: set[str] = set()
    counted = count_rule_phase(phases)
    domains_with_data = sum(p is not None for p in phases.values())
    phase = counted
    if domains_with_data == 1:
        rules.append("single_domain")
    elif counted is not None and counted > 1:
        rules.append("two_domains_at_p")

    confirmed = [r.indicator_id for r in results if r.critical and r.n_yes >= 2]
    reported = [r.indicator_id for r in results if r.critical and r.n_yes >= 1]
    referral_absent = _referral_absent(results)
    phase5 = len(confirmed) >= 2 and referral_absent is True
    if len(confirmed) >= 2 and not phase5:
        rules.append("phase5_blocked_referral_present" if referral_absent is False
                     else "phase5_blocked_referral_unknown")
    if phase5:
        phase = TOP_PHASE
        rules.append("phase5_critical_no_referral")
        drivers.update(confirmed)
        drivers.add(REFERRAL_INDICATOR)
        return _Verdict(phase, _in_catalogue_order(drivers, results), tuple(rules))
    if phase is not None and phase >= TOP_PHASE:
        phase = CRITICAL_FLOOR_PHASE
        rules.append("phase5_capped")
    if reported and (phase is None or phase < CRITICAL_FLOOR_PHASE):
        phase = CRITICAL_FLOOR_PHASE
        rules.append("critical_floor_4")
    if reported and phase == CRITICAL_FLOOR_PHASE:
        drivers.update(reported)
    if counted is not None and phase is not None and phase >= 2 and counted >= phase:
        lead = {d for d, p in phases.items() if p is not None and p >= phase}
        drivers.update(r.indicator_id for r in results
                       if r.domain in lead and r.phase is not None and r.phase >= phase)
    return _Verdict(phase, _in_catalogue_order(drivers, results), tuple(rules))


def site_phase_of(results: Sequence[IndicatorResult]) -> int | None:
    """The site phase these indicator results give (score_site's rules without the round,
    confidence and recency): task generation asks it of a site's results without its
    unconfirmed signals, to see what the site is once those are set aside."""
    return _site_verdict(results, domain_phases(results)).phase


def _in_catalogue_order(ids: set[str], results: Sequence[IndicatorResult]) -> tuple[str, ...]:
    return tuple(r.indicator_id for r in results if r.indicator_id in ids)


# --- confidence (§2.5, §2.6) -------------------------------------------------------

RECENCY_CLASSES = ("current", "ageing", "expired")


def age_confidence(confidence: str | None, scored_in: str | None, now_in: str | None) -> str | None:
    """A confidence computed while the data were in recency class `scored_in`, as it
    stands in class `now_in`: one level lower per class crossed since, 'low' once
    expired. Scoring ages from 'current'; the read path ages a stored confidence only
    for what the calendar moved since it was stored (it used to age it a second time:
    a score computed while ageing was lowered again at every read)."""
    if confidence is None or now_in is None:
        return confidence
    if now_in == "expired":
        return "low"
    crossed = RECENCY_CLASSES.index(now_in) - RECENCY_CLASSES.index(scored_in or "current")
    if crossed <= 0 or confidence not in CONFIDENCE_LEVELS:
        return confidence
    return CONFIDENCE_LEVELS[max(0, CONFIDENCE_LEVELS.index(confidence) - crossed)]


def _confidence(*, n_ki: int, min_kis: int, has_woman_ki: bool, critical_agreed: bool,
                completeness: float, domains_with_data: int, recency: str) -> str:
    if n_ki < min_kis or completeness < MIN_COMPLETENESS or domains_with_data < 2:
        level = 0
    elif has_woman_ki and critical_agreed:
        level = 2
    else:
        level = 1
    return age_confidence(CONFIDENCE_LEVELS[level], "current", recency)


# --- the site --------------------------------------------------------------------

def _is_evidence(catalogue: Catalogue, interview: KiInterview) -> bool:
    by_id = catalogue.indicator_by_id
    for indicator_id, answer in interview.answers.items():
        indicator = by_id.get(indicator_id)
        if indicator is None:
            continue
        if ki_reading(indicator, answer) is not None:
            return True
    return False


def _indicator_results(catalogue: Catalogue, interviews: Sequence[KiInterview]) -> list[IndicatorResult]:
    results = []
    answer_maps = [i.answers for i in interviews]
    for indicator in catalogue.indicators:
        if indicator.domain not in DOMAINS:
            raise ValueError(f"{indicator.id}: unknown domain {indicator.domain!r}")
        indicator_id = indicator.id
        answers = [answer for answers_of_ki in answer_maps
                   if (answer := answers_of_ki.get(indicator_id)) is not None]
        optional = indicator.transit_only or getattr(indicator, "asked_if", None)
        if optional and not answers:
            continue  # not asked at this site: neither data nor a gap
        results.append(combine_indicator(indicator, answers))
    return results


def score_site(catalogue: Catalogue, interviews: Sequence[KiInterview], *, as_of: date) -> SiteScore:
    """Score one site from its KI interviews (the interviews that count are chosen here:
    current_picture)."""
    settings = catalogue.settings
    if not interviews:
        raise ValueError("score_site needs at least one interview")
    evidence = [i for i in interviews if _is_evidence(catalogue, i)]
    if evidence:
        picture = current_picture(catalogue, evidence, as_of)
        used = picture.interviews
    else:
        latest = select_round(interviews, settings.round_window_days)
        picture, used = Picture(latest, latest, [], ()), []
    results = _indicator_results(catalogue, used)
    phases = domain_phases(results)
    verdict = _site_verdict(results, phases)
    previous_round = previous_round_note(picture)
    rules = verdict.rules + (("previous_round_kept",) if previous_round else ())
    assessment_date = round_day(picture.base)
    recency = recency_of(assessment_date, as_of, settings.current_days, settings.expired_days)
    completeness = (sum(r.phase is not None for r in results) / len(results)) if results else 0.0
    has_woman_ki = any(i.ki_sex == "female" for i in used)
    critical_agreed = all(r.consensus and not r.unconfirmed for r in results if r.critical)
    return SiteScore(
        phase=verdict.phase,
        domain_phases=phases,
        indicators=tuple(results),
        drivers=verdict.drivers,
        rules_applied=rules,
        critical_signals=tuple(r.indicator_id for r in results if r.critical and r.n_yes >= 2),
        unconfirmed_signals=tuple(r.indicator_id for r in results if r.unconfirmed),
        confidence=_confidence(
            n_ki=len(used), min_kis=settings.min_kis, has_woman_ki=has_woman_ki,
            critical_agreed=critical_agreed, completeness=completeness,
            domains_with_data=sum(p is not None for p in phases.values()), recency=recency,
        ),
        recency=recency,
        n_ki=len(used),
        has_woman_ki=has_woman_ki,
        completeness=round(completeness, 4),
        assessment_date=assessment_date,
        submission_ids=tuple(i.submission_id for i in used),
        catalogue_version=catalogue.version,
        previous_round=previous_round,
        follow_ups=follow_up_answers(catalogue, used),
    )
