"""The grammar of trigger conditions in forms/mitigation_rules.yaml: a small closed
language of plain mappings, parsed and checked on load. There is no eval and no expression
syntax on purpose: every condition a coordinator can write is one of the shapes below.
Evaluation against a place's facts is crisis_ct.tasks.triggers."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

# Answers that say nothing about risk: they never satisfy is_not / at_least / at_most, and never
# count as a chosen option in includes_any_except (a "don't know" is not evidence of risk).
NON_ANSWERS = frozenset({"dnk", "pnta", "not_observed", "NC", "nc"})

INDICATOR_OPERATORS = (
    "is", "is_not", "at_least", "at_most", "includes", "includes_any_except", "phase_at_least",
)
ORDINAL_OPERATORS = frozenset({"at_least", "at_most"})
DOMAINS = ("V", "R", "E", "S", "C")
CONFIDENCE_LEVELS = ("low", "medium", "high")

# Fact conditions: a mapping with exactly one of these keys.
FACT_KEYS = ("site_phase_at_least", "area_phase_at_least", "hotspot", "unconfirmed_signal",
             "confirmed_signal", "confidence", "age_days_over", "site_type_in", "admin_level_in")
SITE_ONLY_KEYS = frozenset({"indicator", "domain", "site_phase_at_least", "unconfirmed_signal",
                            "confirmed_signal", "site_type_in"})
AREA_ONLY_KEYS = frozenset({"area_phase_at_least", "hotspot", "admin_level_in"})
SCOPES = ("site", "admin_area")
# A rule's while_unconfirmed: wait for a single key informant's critical report to be confirmed.
WAIT = "wait"


class ConditionError(ValueError):
    """A condition that is not one of the allowed shapes; `where` is a path such as
    'any[2].at_least' so the caller can name the field."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


class TriggerError(RuntimeError):
    """A valid condition that cannot be evaluated, e.g. an ordinal comparison on an indicator
    whose scale the caller did not supply. Raised rather than read as "no risk"."""


# ---------------------------------------------------------------------------------------------
# Parsed conditions

@dataclass(frozen=True)
class IndicatorCondition:
    indicator: str
    operator: str  # one of INDICATOR_OPERATORS
    operand: str | int | tuple[str, ...]


@dataclass(frozen=True)
class DomainCondition:
    domain: str
    phase_at_least: int


@dataclass(frozen=True)
class FactCondition:
    key: str  # one of FACT_KEYS
    operand: int | bool | str | tuple[str, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple["Condition", ...]


@dataclass(frozen=True)
class AllOf:
    conditions: tuple["Condition", ...]


Condition = Union[IndicatorCondition, DomainCondition, FactCondition, AnyOf, AllOf]


def _code(value: object, where: str) -> str:
    # YAML 1.1 reads unquoted yes/no as booleans; in a rule they can only mean the yn codes.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if not isinstance(value, str) or not value:
        raise ConditionError(where, f"expected an answer code, got {value!r}")
    return value


def _phase(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ConditionError(where, f"expected a phase 1-5, got {value!r}")
    return value


def _code_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConditionError(where, f"expected a non-empty list of codes, got {value!r}")
    return tuple(_code(item, f"{where}[{i}]") for i, item in enumerate(value))


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def parse_condition(raw: object, where: str = "") -> Condition:
    """Turn plain data (as read from YAML) into a Condition, or raise ConditionError."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConditionError(where, f"expected a condition mapping, got {raw!r}")
    keys = set(raw)
    if keys & {"any", "all"}:
        return _parse_combinator(raw, where)
    if "indicator" in keys:
        return _parse_indicator(raw, where)
    if "domain" in keys:
        return _parse_domain(raw, where)
    if len(keys) != 1:
        raise ConditionError(where, f"a fact condition has exactly one key, got {sorted(map(str, keys))}")
    (key,) = keys
    if key not in FACT_KEYS:
        allowed = ", ".join(["any", "all", "indicator", "domain", *FACT_KEYS])
        raise ConditionError(_join(where, str(key)), f"unknown condition key (allowed: {allowed})")
    return _parse_fact(str(key), raw[key], _join(where, key))


def _parse_combinator(raw: Mapping, where: str) -> Condition:
    if len(raw) != 1:
        raise ConditionError(where, "'any'/'all' must stand alone in their mapping")
    (key,) = raw
    items = raw[key]
    here = _join(where, key)
    if not isinstance(items, list) or not items:
        raise ConditionError(here, "expected a non-empty list of conditions")
    parsed = tuple(parse_condition(item, f"{here}[{i}]") for i, item in enumerate(items))
    return AnyOf(parsed) if key == "any" else AllOf(parsed)


def _parse_indicator(raw: Mapping, where: str) -> IndicatorCondition:
    indicator = raw["indicator"]
    if not isinstance(indicator, str) or not indicator:
        raise ConditionError(_join(where, "indicator"), f"expected an indicator id, got {indicator!r}")
    operators = [key for key in raw if key != "indicator"]
    unknown = [key for key in operators if key not in INDICATOR_OPERATORS]
    if unknown:
        raise ConditionError(_join(where, str(unknown[0])),
                             f"unknown condition key (allowed with indicator: {', '.join(INDICATOR_OPERATORS)})")
    if len(operators) != 1:
        raise ConditionError(where, f"indicator {indicator}: give exactly one of {', '.join(INDICATOR_OPERATORS)}")
    (operator,) = operators
    here = _join(where, operator)
    value = raw[operator]
    if operator == "phase_at_least":
        operand: str | int | tuple[str, ...] = _phase(value, here)
    elif operator == "includes_any_except":
        operand = _code_list(value, here)
    else:
        operand = _code(value, here)
    return IndicatorCondition(indicator, operator, operand)


def _parse_domain(raw: Mapping, where: str) -> DomainCondition:
    extra = set(raw) - {"domain", "phase_at_least"}
    if extra:
        raise ConditionError(_join(where, str(sorted(map(str, extra))[0])),
                             "unknown condition key (a domain condition is {domain: X, phase_at_least: N})")
    domain = raw["domain"]
    if domain not in DOMAINS:
        raise ConditionError(_join(where, "domain"), f"unknown domain {domain!r} (allowed: {', '.join(DOMAINS)})")
    if "phase_at_least" not in raw:
        raise ConditionError(where, "a domain condition needs phase_at_least")
    return DomainCondition(domain, _phase(raw["phase_at_least"], _join(where, "phase_at_least")))


def _parse_fact(key: str, value: object, where: str) -> FactCondition:
    if key in {"hotspot", "unconfirmed_signal", "confirmed_signal"}:
        if value is not True:
            raise ConditionError(where, f"only '{key}: true' is allowed, got {value!r}")
        return FactCondition(key, True)
    if key.endswith("phase_at_least"):
        return FactCondition(key, _phase(value, where))
    if key == "age_days_over":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConditionError(where, f"expected a number of days, got {value!r}")
        return FactCondition(key, value)
    if key == "confidence":
        if value not in CONFIDENCE_LEVELS:
            raise ConditionError(where, f"expected one of {', '.join(CONFIDENCE_LEVELS)}, got {value!r}")
        return FactCondition(key, value)
    if key == "admin_level_in":
        if not isinstance(value, list) or not value or any(
                isinstance(level, bool) or not isinstance(level, int) or level < 1 for level in value):
            raise ConditionError(where, f"expected a list of admin levels (1, 2, ...), got {value!r}")
        return FactCondition(key, tuple(value))
    return FactCondition(key, _code_list(value, where))  # site_type_in


def iter_leaves(condition: Condition, where: str = ""):
    """(path, leaf) for every non-combinator condition, depth first, with the same paths
    parse_condition uses in its errors (used by validation)."""
    if isinstance(condition, (AnyOf, AllOf)):
        key = "any" if isinstance(condition, AnyOf) else "all"
        for i, child in enumerate(condition.conditions):
            yield from iter_leaves(child, f"{_join(where, key)}[{i}]")
    else:
        yield where, condition


def leaf_key(condition: Condition) -> str:
    """The key that decides which scope a leaf belongs to."""
    if isinstance(condition, IndicatorCondition):
        return "indicator"
    if isinstance(condition, DomainCondition):
        return "domain"
    if isinstance(condition, FactCondition):
        return condition.key
    raise TypeError(condition)


# ---------------------------------------------------------------------------------------------
# Facts and evaluation
