"""Pure site risk-scoring rules: KI answers -> indicator values -> domain phases -> site phase.

Method: shared/domain.md §1.4, §2.2-§2.6. Plain functions over frozen dataclasses;
nothing here knows about Flask, the database or files. Where the doc is a [PROP]
we refined it as follows (each refinement keeps the rules monotone where the
tests in tests/scoring/ say so):

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
  'medium'. Ageing lowers one level; expired is always 'low'.
- Completeness = share of the listed indicator results with a phase. Transit-only
  and conditional (`asked_if`) indicators are listed only when some KI answered
  them (even dnk), because score_site does not know the site type.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

if TYPE_CHECKING:
    from crisis_ct.scoring.catalogue import Catalogue, Indicator

DOMAINS = ("V", "R", "E", "S", "C")
MEDIAN_DOMAINS = frozenset({"C"})  # one missing service should not dominate capacity
RISK_PHASE = 3
CRITICAL_FLOOR_PHASE = 4
TOP_PHASE = 5
REFERRAL_INDICATOR = "SVC_REFERRAL"
MIN_COMPLETENESS = 0.5
CONFIDENCE_LEVELS = ("low", "medium", "high")

# A KI's usable answer: the value that goes into the site value, and its phase.
Reading = tuple[object, int]


@dataclass(frozen=True)
class KiInterview:
    submission_id: int
    assessment_date: date
    ki_sex: str | None  # 'female' | 'male' | 'pnta' | None
    # indicator id -> code (str), tuple of codes (select_multiple) or number (integer)
    answers: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True)
class IndicatorResult:
    indicator_id: str
    domain: str
    critical: bool
    value: object | None  # None = missing or no consensus
    phase: int | None
    n_answered: int  # KIs with a scorable answer
    n_yes: int  # KIs whose own answer scores at phase >= 3
    consensus: bool  # False when the mode tied (NC)
    unconfirmed: bool  # critical signal reported by exactly one KI

    def to_dict(self) -> dict:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "indicator_id": self.indicator_id, "domain": self.domain, "critical": self.critical,
            "value": value, "phase": self.phase, "n_answered": self.n_answered,
            "n_yes": self.n_yes, "consensus": self.consensus, "unconfirmed": self.unconfirmed,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> IndicatorResult:
        value = data["value"]
        return cls(**{**data, "value": tuple(value) if isinstance(value, list) else value})


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
        )


# --- one KI's answer ---------------------------------------------------------------

def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _code_phase(indicator: Indicator, code: object) -> int | None:
    # Missing codes and codes that are not choices (the importer should have quarantined
    # them) are absent from code_phases, so both read as None.
    if not isinstance(code, str):
        return None
    return indicator.code_phases.get(code)


def _count_reading(indicator: Indicator, answer: object) -> Reading | None:
    if isinstance(answer, str):
        try:  # Kobo JSON carries integers as strings
            answer = int(answer) if answer.strip().lstrip("-").isdigit() else float(answer)
        except ValueError:
            return None  # dnk/pnta or junk in a number field
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return None
    if not math.isfinite(answer) or answer < 0:
        return None
    phase = _threshold_phase(indicator, answer)
    return None if phase is None else (answer, phase)


def _threshold_phase(indicator: Indicator, value: float) -> int | None:
    found = None
    for minimum, phase in indicator.sorted_thresholds:
        if minimum <= value:
            found = phase
    return found


def _selection_reading(indicator: Indicator, answer: object) -> Reading | None:
    codes = answer.split() if isinstance(answer, str) else answer
    if not isinstance(codes, (tuple, list, set, frozenset)):
        return None
    phases = indicator.code_phases
    scored = {code: phases.get(code) if isinstance(code, str) else None for code in codes}
    kept = tuple(sorted((c for c, p in scored.items() if p is not None), key=_choice_order(indicator)))
    if not kept:
        return None
    return kept, max(scored[c] for c in kept)


def ki_reading(indicator: Indicator, answer: object) -> Reading | None:
    """One KI's answer as (value, phase), or None when it cannot be scored."""
    if answer is None:
        return None
    answer_type = indicator.answer_type
    if answer_type == "integer":
        return _count_reading(indicator, answer)
    if answer_type == "select_multiple":
        return _selection_reading(indicator, answer)
    if not isinstance(answer, str):
        return None
    phase = indicator.code_phases.get(answer)
    return None if phase is None else (answer, phase)


def _choice_order(indicator: Indicator) -> Callable[[object], tuple]:
    order = indicator.choice_rank
    unknown = len(order)
    return lambda value: (order.get(value, unknown), str(value))


# --- combining KIs into one site value (§2.5) --------------------------------------

Combined = tuple[object | None, int | None, bool]  # value, phase, consensus


def _mode(indicator: Indicator, readings: list[Reading]) -> Combined:
    if not readings:
        return None, None, True
    counts: dict[object, int] = {}
    for value, _ in readings:
        counts[value] = counts.get(value, 0) + 1
    top = max(counts.values())
    winners = [value for value, count in counts.items() if count == top]
    if len(winners) > 1:
        return None, None, False  # NC: treated as missing downstream
    phase = next(p for v, p in readings if v == winners[0])
    return winners[0], phase, True


def _highest_phase_value(indicator: Indicator, readings: list[Reading]) -> Combined:
    top_phase = max(phase for _, phase in readings)
    counts = Counter(value for value, phase in readings if phase == top_phase)
    order = _choice_order(indicator)
    # most often given among the worst answers; choice order only breaks exact ties
    value = min(counts, key=lambda v: (-counts[v], order(v)))
    return value, top_phase, True


def _yes_prevails(indicator: Indicator, readings: list[Reading]) -> Combined:
    if any(phase >= RISK_PHASE for _, phase in readings):
        return _highest_phase_value(indicator, readings)
    return _mode(indicator, readings)


def _max(indicator: Indicator, readings: list[Reading]) -> Combined:
    if not readings:
        return None, None, True
    if indicator.answer_type == "select_multiple":
        union = {code for codes, _ in readings for code in codes}
        value = tuple(sorted(union, key=_choice_order(indicator)))
        return value, max(phase for _, phase in readings), True
    if indicator.answer_type == "integer":
        value = max(value for value, _ in readings)
        return value, _threshold_phase(indicator, value), True
    return _highest_phase_value(indicator, readings)


def _mean_1sd(indicator: Indicator, readings: list[Reading]) -> Combined:
    if indicator.answer_type != "integer":
        raise ValueError(f"{indicator.id}: combine 'mean_1sd' needs an integer indicator")
    if not readings:
        return None, None, True
    # statistics works in exact fractions, so KI order cannot move a threshold
    values = [value for value, _ in readings]
    kept = values
    if len(values) >= 3:
        mean, spread = statistics.mean(values), statistics.stdev(values)
        if spread > 0:
            kept = [v for v in values if abs(v - mean) <= spread] or values
    value = statistics.mean(kept)
    return value, _threshold_phase(indicator, value), True


_COMBINERS: dict[str, Callable[[Indicator, list[Reading]], Combined]] = {
    "mode": _mode, "yes_prevails": _yes_prevails, "max": _max, "mean_1sd": _mean_1sd,
}


def combine_indicator(indicator: Indicator, answers: Sequence[object]) -> IndicatorResult:
    """Combine the KIs' answers to one indicator into the site value and phase."""
    combiner = _COMBINERS.get(indicator.combine)
    if combiner is None:
        raise ValueError(f"{indicator.id}: unknown combine {indicator.combine!r}")
    readings = []
    n_yes = 0
    if indicator.answer_type in ("integer", "select_multiple"):
        for answer in answers:
            reading = ki_reading(indicator, answer)
            if reading is not None:
                readings.append(reading)
                if reading[1] >= RISK_PHASE:
                    n_yes += 1
    else:
        # ki_reading of a select_one, inlined: this loop runs for most of ~40 items x KIs x sites
        phases = indicator.code_phases
        for answer in answers:
            if isinstance(answer, str):
                phase = phases.get(answer)
                if phase is not None:
                    readings.append((answer, phase))
                    if phase >= RISK_PHASE:
                        n_yes += 1
    value, phase, consensus = combiner(indicator, readings)
    return IndicatorResult(
        indicator_id=indicator.id, domain=indicator.domain, critical=indicator.critical,
        value=value, phase=phase, n_answered=len(readings), n_yes=n_yes,
        consensus=consensus, unconfirmed=indicator.critical and n_yes == 1,
    )


# --- rounds, domains, site phase ---------------------------------------------------

def select_round(interviews: Sequence[KiInterview], window_days: int) -> list[KiInterview]:
    """The latest assessment round: interviews within window_days of the latest one."""
    if not interviews:
        return []
    latest = max(_day(i.assessment_date) for i in interviews)
    start = latest - timedelta(days=window_days)
    chosen = [i for i in interviews if _day(i.assessment_date) >= start]
    return sorted(chosen, key=lambda i: (_day(i.assessment_date), i.submission_id))


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


def _in_catalogue_order(ids: set[str], results: Sequence[IndicatorResult]) -> tuple[str, ...]:
    return tuple(r.indicator_id for r in results if r.indicator_id in ids)


# --- confidence and recency (§2.5, §2.6) -------------------------------------------

def recency_of(assessment_date: date, as_of: date, current_days: int, expired_days: int) -> str:
    age = (_day(as_of) - _day(assessment_date)).days
    if age <= current_days:
        return "current"
    return "ageing" if age <= expired_days else "expired"


def _confidence(*, n_ki: int, min_kis: int, has_woman_ki: bool, critical_agreed: bool,
                completeness: float, domains_with_data: int, recency: str) -> str:
    if recency == "expired":
        return "low"
    if n_ki < min_kis or completeness < MIN_COMPLETENESS or domains_with_data < 2:
        level = 0
    elif has_woman_ki and critical_agreed:
        level = 2
    else:
        level = 1
    if recency == "ageing":
        level = max(0, level - 1)
    return CONFIDENCE_LEVELS[level]


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
    """Score one site from its KI interviews (the latest round is selected here)."""
    settings = catalogue.settings
    evidence = [i for i in interviews if _is_evidence(catalogue, i)]
    round_ = select_round(evidence or interviews, settings.round_window_days)
    if not round_:
        raise ValueError("score_site needs at least one interview")
    used = round_ if evidence else []
    results = _indicator_results(catalogue, used)
    phases = domain_phases(results)
    verdict = _site_verdict(results, phases)
    assessment_date = max(_day(i.assessment_date) for i in round_)
    recency = recency_of(assessment_date, as_of, settings.current_days, settings.expired_days)
    completeness = (sum(r.phase is not None for r in results) / len(results)) if results else 0.0
    has_woman_ki = any(i.ki_sex == "female" for i in used)
    critical_agreed = all(r.consensus and not r.unconfirmed for r in results if r.critical)
    return SiteScore(
        phase=verdict.phase,
        domain_phases=phases,
        indicators=tuple(results),
        drivers=verdict.drivers,
        rules_applied=verdict.rules,
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
    )
