"""Evaluating mitigation-rule trigger conditions (crisis_ct.tasks.conditions) against the
facts known about one site or admin area, with the evidence that made them hold."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, NamedTuple

# ConditionError and parse_condition are part of this module's public face too.
from crisis_ct.tasks.conditions import (  # noqa: F401
    NON_ANSWERS, ORDINAL_OPERATORS, AllOf, AnyOf, Condition, ConditionError, DomainCondition, FactCondition,
    IndicatorCondition, TriggerError, WAIT, parse_condition,
)

if TYPE_CHECKING:
    from crisis_ct.tasks.catalogue import MitigationCatalogue, MitigationRule


class IndicatorFact(NamedTuple):
    """A NamedTuple rather than a frozen dataclass: a full re-score builds ~400,000 of them."""
    value: object | None  # a code, a collection of codes (select_multiple), a number, or None
    phase: int | None = None
    n_yes: int = 0
    n_answered: int = 0


@dataclass(frozen=True)
class Facts:
    scope: str  # 'site' | 'admin_area'
    # IndicatorFact, or anything with its four attributes (a scoring IndicatorResult)
    indicators: Mapping[str, IndicatorFact] = field(default_factory=dict)  # empty for areas
    site_phase: int | None = None
    domain_phases: Mapping[str, int | None] = field(default_factory=dict)
    area_phase: int | None = None
    hotspot: bool = False
    admin_level: int | None = None  # of an admin area
    unconfirmed_signals: tuple[str, ...] = ()  # indicator ids of single-KI critical signals
    confirmed_signals: tuple[str, ...] = ()  # indicator ids of critical signals from >= 2 KIs
    confidence: str | None = None
    age_days: int | None = None
    site_type: str | None = None
    # The same place as if the unconfirmed signals had not been reported, with the site and
    # domain phases scoring gives without them (crisis_ct.tasks.service.site_facts). None: derive
    # it here by dropping those indicators and keeping the phases.
    confirmed: "Facts | None" = field(default=None, compare=False, repr=False)

    def without_unconfirmed(self) -> "Facts":
        """What is known once the single-KI critical reports are set aside: rules that hold only
        with them wait for confirmation (MitigationRule.while_unconfirmed)."""
        if not self.unconfirmed_signals:
            return self
        if self.confirmed is not None:
            return self.confirmed
        dropped = set(self.unconfirmed_signals)
        return replace(self, unconfirmed_signals=(),
                       indicators={k: v for k, v in self.indicators.items() if k not in dropped})


class Evidence(NamedTuple):
    """Why a condition held: kind is 'indicator', 'domain', 'site_phase', 'area_phase',
    'hotspot', 'unconfirmed_signal', 'confidence', 'age_days' or 'site_type'."""
    kind: str
    id: str
    value: object


@dataclass(frozen=True)
class Match:
    evidence: tuple[Evidence, ...]  # distinct, in rule order
    leaves: int  # how many leaf conditions held


def evaluate(condition: Condition | Mapping, facts: Facts,
             scales: Mapping[str, Sequence[str]]) -> Match | None:
    """The evidence if `condition` holds for `facts`, else None. `scales` maps indicator id to
    its answer codes ordered from lowest to highest risk (needed by at_least/at_most).
    For `any`, every branch that holds contributes evidence, not only the first, so a task
    links to all the indicators behind it."""
    if isinstance(condition, Mapping):
        condition = parse_condition(condition)
    if isinstance(condition, AnyOf):
        held = [m for m in (evaluate(c, facts, scales) for c in condition.conditions) if m]
        return _merge(held) if held else None
    if isinstance(condition, AllOf):
        held = []
        for child in condition.conditions:
            match = evaluate(child, facts, scales)
            if match is None:
                return None
            held.append(match)
        return _merge(held)
    evidence = _leaf_evidence(condition, facts, scales)
    return Match(evidence, 1) if evidence else None


def _merge(matches: Sequence[Match]) -> Match:
    seen: dict[Evidence, None] = {}
    for match in matches:
        for item in match.evidence:
            seen.setdefault(item, None)
    return Match(tuple(seen), sum(m.leaves for m in matches))


def _leaf_evidence(condition: Condition, facts: Facts,
                   scales: Mapping[str, Sequence[str]]) -> tuple[Evidence, ...]:
    if isinstance(condition, IndicatorCondition):
        return _indicator_evidence(condition, facts, scales)
    if isinstance(condition, DomainCondition):
        phase = facts.domain_phases.get(condition.domain)
        if phase is not None and phase >= condition.phase_at_least:
            return (Evidence("domain", condition.domain, phase),)
        return ()
    assert isinstance(condition, FactCondition)
    return _fact_evidence(condition, facts)


def _fact_evidence(condition: FactCondition, facts: Facts) -> tuple[Evidence, ...]:
    key, operand = condition.key, condition.operand
    if key == "site_phase_at_least" and facts.site_phase is not None and facts.site_phase >= operand:
        return (Evidence("site_phase", "site", facts.site_phase),)
    if key == "area_phase_at_least" and facts.area_phase is not None and facts.area_phase >= operand:
        return (Evidence("area_phase", "admin_area", facts.area_phase),)
    if key == "hotspot" and facts.hotspot:
        return (Evidence("hotspot", "admin_area", True),)
    if key == "unconfirmed_signal" and facts.unconfirmed_signals:
        return tuple(Evidence("unconfirmed_signal", indicator, _signal_value(facts, indicator))
                     for indicator in facts.unconfirmed_signals)
    if key == "confirmed_signal" and facts.confirmed_signals:
        return tuple(Evidence("confirmed_signal", indicator, _signal_value(facts, indicator))
                     for indicator in facts.confirmed_signals)
    if key == "confidence" and facts.confidence == operand:
        return (Evidence("confidence", facts.scope, facts.confidence),)
    if key == "age_days_over" and facts.age_days is not None and facts.age_days > operand:
        return (Evidence("age_days", facts.scope, facts.age_days),)
    if key == "admin_level_in" and facts.admin_level in operand:
        return (Evidence("admin_level", "admin_area", facts.admin_level),)
    if key == "site_type_in" and facts.site_type in operand:
        return (Evidence("site_type", "site", facts.site_type),)
    return ()


def _signal_value(facts: Facts, indicator: str) -> object:
    fact = facts.indicators.get(indicator)
    return _evidence_value(fact.value) if fact else None


def _chosen(value: object) -> frozenset[str]:
    """The options of a select_multiple answer; Kobo sends them space-separated."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(str(item) for item in value)
    return frozenset()


def _evidence_value(value: object) -> object:
    # Collections become sorted tuples so evidence is hashable and stable.
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(sorted(str(item) for item in value))
    return value


def _answered(indicator: str, value: object, scales: Mapping[str, Sequence[str]]) -> bool:
    """A substantive answer: on the indicator's scale when the scale is known (so an
    indicator-specific missing code such as obs3 not_observed never counts)."""
    if value is None or (isinstance(value, str) and value in NON_ANSWERS):
        return False
    scale = scales.get(indicator)
    return value in scale if scale else True


def _rank(indicator: str, code: str, scales: Mapping[str, Sequence[str]]) -> int | None:
    scale = scales.get(indicator)
    if scale is None:
        raise TriggerError(f"no answer scale known for indicator {indicator}; cannot compare ordinally")
    return list(scale).index(code) if code in scale else None


def _indicator_holds(condition: IndicatorCondition, fact: IndicatorFact,
                     scales: Mapping[str, Sequence[str]]) -> bool:
    operator, operand, value = condition.operator, condition.operand, fact.value
    if operator == "phase_at_least":
        return fact.phase is not None and fact.phase >= operand
    if operator == "is":
        return value == operand
    if operator == "is_not":
        return _answered(condition.indicator, value, scales) and value != operand
    if operator == "includes":
        return operand in _chosen(value)
    if operator == "includes_any_except":
        return bool(_chosen(value) - NON_ANSWERS - set(operand))
    # at_least / at_most: both sides must be on the indicator's ordered scale.
    wanted = _rank(condition.indicator, operand, scales)
    if wanted is None:
        raise TriggerError(f"code {operand!r} is not on the scale of {condition.indicator}")
    if not isinstance(value, str) or not _answered(condition.indicator, value, scales):
        return False
    actual = _rank(condition.indicator, value, scales)
    if actual is None:
        return False
    return actual >= wanted if operator == "at_least" else actual <= wanted


def _indicator_evidence(condition: IndicatorCondition, facts: Facts,
                        scales: Mapping[str, Sequence[str]]) -> tuple[Evidence, ...]:
    fact = facts.indicators.get(condition.indicator)
    if fact is None or not _indicator_holds(condition, fact, scales):
        return ()
    value = fact.value
    if condition.operator in {"includes", "includes_any_except"}:
        value = _chosen(value)  # one shape for Kobo's "a b" strings and for lists
    return (Evidence("indicator", condition.indicator, _evidence_value(value)),)


# ---------------------------------------------------------------------------------------------
# Rules

@dataclass(frozen=True)
class TriggeredRule:
    rule: "MitigationRule"
    priority: str  # after escalation
    evidence: tuple[Evidence, ...]
    strength: int  # leaf conditions of the trigger that held; more = broader support


def rules_triggered(catalogue: "MitigationCatalogue", facts: Facts,
                    scales: Mapping[str, Sequence[str]]) -> list[TriggeredRule]:
    """Every rule of the facts' scope whose trigger holds, in catalogue order, with its
    priority raised by any escalation that holds as well. Same result as `evaluate` on each
    rule, through the rules compiled once per (catalogue, scales).

    A rule whose trigger holds only thanks to a critical signal one key informant reported
    (it fails on facts.without_unconfirmed()) follows its `while_unconfirmed`: it waits (is
    not triggered) or opens at that lower priority, never escalated. Escalations read the
    confirmed facts too, so one unconfirmed report makes one P1 task: the verification (M02)."""
    triggered = []
    confirmed = facts.without_unconfirmed()
    for rule, trigger, escalations in _compiled_rules(catalogue, scales).get(facts.scope, ()):
        match = trigger(facts)
        if match is None:
            continue
        evidence, leaves = match
        priority = rule.priority
        if confirmed is not facts and trigger(confirmed) is None:
            if rule.while_unconfirmed == WAIT:
                continue
            triggered.append(TriggeredRule(rule, rule.while_unconfirmed, evidence, leaves))
            continue
        for escalation_priority, when in escalations:
            escalated = when(confirmed)
            if escalated is None:
                continue
            evidence += escalated[0]
            if catalogue.more_urgent(escalation_priority, priority):
                priority = escalation_priority
        triggered.append(TriggeredRule(rule, priority, tuple(dict.fromkeys(evidence)), leaves))
    return triggered


# ---------------------------------------------------------------------------------------------
# Compiled conditions: each condition tree becomes nested closures once, so evaluating a rule
# for one of 10,000 sites costs no parsing, dispatch on types or scale searches. A compiled
# condition returns (evidence, leaves that held) or None, with evaluate's exact semantics.

_Compiled = Callable[[Facts], "tuple[tuple[Evidence, ...], int] | None"]
_COMPILED_CACHE: dict[tuple[int, int], tuple[object, object, dict]] = {}


def _compiled_rules(catalogue: "MitigationCatalogue", scales: Mapping[str, Sequence[str]]) -> dict:
    key = (id(catalogue), id(scales))
    cached = _COMPILED_CACHE.get(key)
    # The objects are kept in the entry, so an id cannot be reused while it is cached.
    if cached is not None and cached[0] is catalogue and cached[1] is scales:
        return cached[2]
    by_scope: dict[str, list] = {}
    for rule in catalogue.rules:
        escalations = tuple((e.priority, compile_condition(e.when, scales)) for e in rule.escalate)
        by_scope.setdefault(rule.scope, []).append((rule, compile_condition(rule.trigger, scales), escalations))
    if len(_COMPILED_CACHE) > 8:
        _COMPILED_CACHE.clear()
    _COMPILED_CACHE[key] = (catalogue, scales, by_scope)
    return by_scope


def compile_condition(condition: Condition | Mapping, scales: Mapping[str, Sequence[str]]) -> _Compiled:
    if isinstance(condition, Mapping):
        condition = parse_condition(condition)
    if isinstance(condition, AnyOf):
        return _compile_any(tuple(compile_condition(c, scales) for c in condition.conditions))
    if isinstance(condition, AllOf):
        return _compile_all(tuple(compile_condition(c, scales) for c in condition.conditions))
    if isinstance(condition, IndicatorCondition):
        leaf = _compile_indicator(condition, scales)
    else:
        def leaf(facts: Facts, condition=condition) -> tuple[Evidence, ...]:
            return _leaf_evidence(condition, facts, scales)

    def compiled(facts: Facts) -> tuple[tuple[Evidence, ...], int] | None:
        evidence = leaf(facts)
        return (evidence, 1) if evidence else None
    return compiled


def _compile_any(children: tuple[_Compiled, ...]) -> _Compiled:
    def compiled(facts: Facts):
        evidence: tuple[Evidence, ...] = ()
        leaves = 0
        held = False
        for child in children:
            match = child(facts)
            if match is not None:
                held = True
                evidence += match[0]
                leaves += match[1]
        return (tuple(dict.fromkeys(evidence)), leaves) if held else None
    return compiled


def _compile_all(children: tuple[_Compiled, ...]) -> _Compiled:
    def compiled(facts: Facts):
        evidence: tuple[Evidence, ...] = ()
        leaves = 0
        for child in children:
            match = child(facts)
            if match is None:
                return None
            evidence += match[0]
            leaves += match[1]
        return tuple(dict.fromkeys(evidence)), leaves
    return compiled


def _compile_indicator(condition: IndicatorCondition,
                       scales: Mapping[str, Sequence[str]]) -> Callable[[Facts], tuple[Evidence, ...]]:
    indicator, operator, operand = condition.indicator, condition.operator, condition.operand
    chosen_value = operator in {"includes", "includes_any_except"}

    def evidence_of(fact: IndicatorFact) -> tuple[Evidence, ...]:
        value = _chosen(fact.value) if chosen_value else fact.value
        return (Evidence("indicator", indicator, _evidence_value(value)),)

    if operator in ORDINAL_OPERATORS:
        scale = scales.get(indicator)
        ranks = {code: index for index, code in reversed(list(enumerate(scale)))} if scale is not None else None
        if ranks is None or operand not in ranks:
            # Not decidable: raise as evaluate does, when (and only when) the fact exists.
            def leaf(facts: Facts) -> tuple[Evidence, ...]:
                fact = facts.indicators.get(indicator)
                if fact is None:
                    return ()
                return _indicator_evidence(condition, facts, scales)
            return leaf
        wanted = ranks[operand]
        at_least = operator == "at_least"

        def leaf(facts: Facts) -> tuple[Evidence, ...]:
            fact = facts.indicators.get(indicator)
            if fact is None:
                return ()
            value = fact.value
            if not isinstance(value, str) or value in NON_ANSWERS:
                return ()
            actual = ranks.get(value)
            if actual is None:
                return ()
            held = actual >= wanted if at_least else actual <= wanted
            return evidence_of(fact) if held else ()
        return leaf

    if operator == "phase_at_least":
        def leaf(facts: Facts) -> tuple[Evidence, ...]:
            fact = facts.indicators.get(indicator)
            if fact is None or fact.phase is None or fact.phase < operand:
                return ()
            return evidence_of(fact)
        return leaf

    if operator == "is":
        def leaf(facts: Facts) -> tuple[Evidence, ...]:
            fact = facts.indicators.get(indicator)
            if fact is None or fact.value != operand:
                return ()
            return evidence_of(fact)
        return leaf

    def leaf(facts: Facts) -> tuple[Evidence, ...]:  # is_not, includes, includes_any_except
        fact = facts.indicators.get(indicator)
        if fact is None or not _indicator_holds(condition, fact, scales):
            return ()
        return evidence_of(fact)
    return leaf


def _escalated(catalogue: "MitigationCatalogue", rule: "MitigationRule", facts: Facts,
               scales: Mapping[str, Sequence[str]]) -> tuple[str, tuple[Evidence, ...]]:
    priority, evidence = rule.priority, ()
    for escalation in rule.escalate:
        match = evaluate(escalation.when, facts, scales)
        if match is None:
            continue
        evidence += match.evidence
        if catalogue.more_urgent(escalation.priority, priority):
            priority = escalation.priority
    return priority, evidence
