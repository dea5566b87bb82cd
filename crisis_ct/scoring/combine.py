"""Key-informant answers to one indicator -> the site's value for it (domain.md §2.5):
one KI's reading of an answer, then mode / "yes prevails" / max / confirmed max /
mean within 1 SD. Pure functions; crisis_ct.scoring.rules builds the site score from
these results.

`confirmed_max` (issue 12): the mode loses a report when answers spread over a scale
(none / few / many on unaccompanied children ties, "no consensus", and the child-
protection task never opens, though two of three KIs report children). For such
count-scale items the site value is the highest answer that at least two KIs reached
(each answered it or worse): two KIs' report is never lost, one KI alone does not set
the value (a single KI answering is taken as is). It is the median of three answers and
never below the median of more. Which items use it is set per indicator in
forms/indicators.yaml; items marked risk-first there keep `max` / `yes_prevails`."""
from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

if TYPE_CHECKING:
    from crisis_ct.scoring.catalogue import Indicator

RISK_PHASE = 3

# A KI's usable answer: the value that goes into the site value, and its phase.
Reading = tuple[object, int]


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



# --- one KI's answer ---------------------------------------------------------------

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
    # Codes that are not choices (the importer should have quarantined them) are absent
    # from code_phases, so they read as unscorable.
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


def _confirmed_max(indicator: Indicator, readings: list[Reading]) -> Combined:
    if not readings:
        return None, None, True
    order = _choice_order(indicator)
    ranked = sorted(readings, key=lambda reading: (reading[1], order(reading[0])), reverse=True)
    value, phase = ranked[min(2, len(ranked)) - 1]
    return value, phase, True


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
    "confirmed_max": _confirmed_max,
}


def combine_indicator(indicator: Indicator, answers: Sequence[object]) -> IndicatorResult:
    """Combine the KIs' answers to one indicator into the site value and phase."""
    combiner = _COMBINERS.get(indicator.combine)
    if combiner is None:
        raise ValueError(f"{indicator.id}: unknown combine {indicator.combine!r}")
    if indicator.answer_type in ("integer", "select_multiple") or indicator.combine == "mean_1sd":
        readings = []
        n_yes = 0
        for answer in answers:
            reading = ki_reading(indicator, answer)
            if reading is not None:
                readings.append(reading)
                if reading[1] >= RISK_PHASE:
                    n_yes += 1
        value, phase, consensus = combiner(indicator, readings)
        n_answered = len(readings)
    else:
        value, phase, consensus, n_answered, n_yes = _combine_choice(indicator, answers)
    return _result(indicator, value, phase, n_answered, n_yes, consensus)


def _combine_choice(indicator: Indicator, answers: Sequence[object]) -> tuple[object, int | None, bool, int, int]:
    """mode / yes_prevails / max / confirmed_max of a select_one from the count of each scorable code:
    the same values as the combiners above over (code, phase) readings, without building
    the readings (this runs for ~30 items x KIs x sites in a full re-score).
    tests/scoring/test_rules_combine.py checks it against those combiners."""
    phases = indicator.code_phases
    counts: dict[str, int] = {}  # in order of first appearance, as the readings were
    for answer in answers:
        if isinstance(answer, str) and phases.get(answer) is not None:
            counts[answer] = counts.get(answer, 0) + 1
    if not counts:
        return None, None, True, 0, 0
    n_answered = sum(counts.values())
    n_yes = sum(n for code, n in counts.items() if phases[code] >= RISK_PHASE)
    if indicator.combine == "max" or (indicator.combine == "yes_prevails" and n_yes):
        top_phase = max(phases[code] for code in counts)
        worst = {code: n for code, n in counts.items() if phases[code] == top_phase}
        order = _choice_order(indicator)
        value = min(worst, key=lambda code: (-worst[code], order(code)))
        return value, top_phase, True, n_answered, n_yes
    if indicator.combine == "confirmed_max":
        order = _choice_order(indicator)
        reached = 0
        for code in sorted(counts, key=lambda c: (phases[c], order(c)), reverse=True):
            reached += counts[code]
            if reached >= min(2, n_answered):
                return code, phases[code], True, n_answered, n_yes
    top = max(counts.values())
    winners = [code for code, n in counts.items() if n == top]
    if len(winners) > 1:
        return None, None, False, n_answered, n_yes  # NC: treated as missing downstream
    return winners[0], phases[winners[0]], True, n_answered, n_yes


# Equal results are shared: a full re-score makes ~340,000 of them, mostly repeats (an
# item's value, phase and counts take few combinations), and building a frozen dataclass
# costs more than looking one up. Bounded so a long-running process does not grow it.
_SHARED_RESULTS: dict[tuple, IndicatorResult] = {}
_SHARED_RESULTS_MAX = 100_000


def _result(indicator: Indicator, value: object, phase: int | None, n_answered: int, n_yes: int,
            consensus: bool) -> IndicatorResult:
    # The value's type is in the key: 1, 1.0 and True are equal but not the same JSON.
    key = (indicator.id, indicator.domain, indicator.critical, type(value), value, phase, n_answered, n_yes,
           consensus)
    result = _SHARED_RESULTS.get(key)
    if result is None:
        if len(_SHARED_RESULTS) >= _SHARED_RESULTS_MAX:
            _SHARED_RESULTS.clear()
        result = _SHARED_RESULTS[key] = IndicatorResult(
            indicator_id=indicator.id, domain=indicator.domain, critical=indicator.critical,
            value=value, phase=phase, n_answered=n_answered, n_yes=n_yes,
            consensus=consensus, unconfirmed=indicator.critical and n_yes == 1,
        )
    return result
