"""The mitigation-rule catalogue (forms/mitigation_rules.yaml): loaded, checked, frozen.

Coordinators edit the file by hand, so every check names the file, the rule and the field
that is wrong instead of failing somewhere later during task generation.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from crisis_ct.languages import LANGUAGES
from crisis_ct.tasks.conditions import (
    AREA_ONLY_KEYS, NON_ANSWERS, ORDINAL_OPERATORS, SCOPES, SITE_ONLY_KEYS, WAIT,
    Condition, ConditionError, IndicatorCondition, iter_leaves, leaf_key, parse_condition,
)

DEFAULT = Path(__file__).resolve().parents[2] / "forms" / "mitigation_rules.yaml"
_TOP_KEYS = ("version", "priorities", "expertise", "sectors", "rules")
_RULE_KEYS = ("id", "sector", "scope", "title", "description", "priority", "expertise", "trigger", "escalate",
              "task_per", "while_unconfirmed")
_REQUIRED_RULE_KEYS = _RULE_KEYS[:8]
# task_per: "site" (one task per site) or the admin level whose area gets ONE task listing the
# sites that triggered it (an action one team delivers across many sites).
TASK_PER = {"site": None, "adm1": 1, "adm2": 2, "adm3": 3}
# while_unconfirmed (conditions.WAIT or a priority): what a site rule does when it holds only
# because of a critical signal that a single key informant reported (§2.5).


class MitigationRulesError(ValueError):
    def __init__(self, path: Path | str, message: str, *, rule_id: str | None = None, field: str | None = None):
        where = [str(path)]
        if rule_id is not None:
            where.append(f"rule {rule_id}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{': '.join(where)}: {message}")
        self.path = str(path)
        self.rule_id = rule_id
        self.field = field


@dataclass(frozen=True)
class Text:
    """A label in both interface languages."""
    en: str
    fr: str

    def get(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


@dataclass(frozen=True)
class Priority:
    code: str
    name: Text
    response_hours: int  # claim and start within this time
    claim_hours: int  # a self-claim expires after this unless renewed


@dataclass(frozen=True)
class Escalation:
    when: Condition
    priority: str


@dataclass(frozen=True)
class MitigationRule:
    id: str
    sector: str
    scope: str  # 'site' | 'admin_area'
    title: Text
    description: Text
    priority: str
    expertise: tuple[str, ...]
    trigger: Condition
    escalate: tuple[Escalation, ...] = ()
    task_per: str = "site"  # a key of TASK_PER; admin_area rules are per area by nature
    while_unconfirmed: str = WAIT  # WAIT or a priority code, never more urgent than `priority`

    @property
    def admin_level(self) -> int | None:
        """The admin level of the area that gets one task for many sites; None for a task per site."""
        return TASK_PER[self.task_per]


@dataclass(frozen=True, eq=False)
class MitigationCatalogue:
    version: str
    priorities: Mapping[str, Priority]  # most urgent first
    expertise: Mapping[str, Text]
    sectors: Mapping[str, Text]
    rules: tuple[MitigationRule, ...]

    def rule(self, rule_id: str) -> MitigationRule | None:
        position = self._rule_positions.get(rule_id)
        return None if position is None else self.rules[position]

    def rule_order(self, rule_id: str) -> int:
        """The rule's place in the file (its first, if repeated); after every rule if unknown."""
        return self._rule_positions.get(rule_id, len(self.rules))

    @cached_property
    def _rule_positions(self) -> dict[str, int]:
        # Computed once: plan sorting asks for a rule's order per created task (~130,000 in a
        # full re-score). The first of a repeated id wins, as the file reads.
        positions: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            positions.setdefault(rule.id, index)
        return positions

    def priority_rank(self, code: str) -> int:
        """0 for the most urgent priority."""
        try:
            return self._priority_ranks[code]
        except KeyError:
            raise ValueError(f"{code!r} is not a priority of this catalogue") from None

    @cached_property
    def _priority_ranks(self) -> dict[str, int]:
        # Computed once: plan sorting asks for a rank per created task (~130,000 in a full re-score).
        return {code: rank for rank, code in enumerate(self.priorities)}

    def more_urgent(self, a: str, b: str) -> bool:
        return self.priority_rank(a) < self.priority_rank(b)


# ---------------------------------------------------------------------------------------------

def load_mitigation_rules(path: Path | str = DEFAULT, *,
                          indicator_scales: Mapping[str, Sequence[str]] | None = None) -> MitigationCatalogue:
    """Read and check the rules file. With `indicator_scales` (indicator id -> its answer codes,
    lowest risk first) indicator ids and answer codes in triggers are checked as well."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MitigationRulesError(path, f"cannot read the file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise MitigationRulesError(path, f"not valid YAML: {exc}") from exc
    return parse_mitigation_rules(raw, path, indicator_scales=indicator_scales)


def parse_mitigation_rules(raw: object, path: Path | str = "<data>", *,
                           indicator_scales: Mapping[str, Sequence[str]] | None = None) -> MitigationCatalogue:
    if not isinstance(raw, dict):
        raise MitigationRulesError(path, "expected a mapping with " + ", ".join(_TOP_KEYS))
    for key in raw:
        if key not in _TOP_KEYS:
            raise MitigationRulesError(path, f"unknown top-level key (allowed: {', '.join(_TOP_KEYS)})", field=str(key))
    for key in _TOP_KEYS:
        if key not in raw:
            raise MitigationRulesError(path, "missing", field=key)
    version = raw["version"]
    if not isinstance(version, str) or not version:
        # Unquoted 2026.10 would become the float 2026.1.
        raise MitigationRulesError(path, "must be a quoted string such as \"2026.1\"", field="version")
    priorities = _priorities(raw["priorities"], path)
    expertise = _labels(raw["expertise"], path, "expertise")
    sectors = _labels(raw["sectors"], path, "sectors")
    context = _Context(path, priorities, expertise, sectors, indicator_scales)
    rules = _rules(raw["rules"], context)
    return MitigationCatalogue(version, priorities, expertise, sectors, rules)


@dataclass(frozen=True)
class _Context:
    path: Path | str
    priorities: Mapping[str, Priority]
    expertise: Mapping[str, Text]
    sectors: Mapping[str, Text]
    scales: Mapping[str, Sequence[str]] | None

    def error(self, message: str, rule_id: str | None = None, field: str | None = None) -> MitigationRulesError:
        return MitigationRulesError(self.path, message, rule_id=rule_id, field=field)


def _text(value: object, path, field: str, rule_id: str | None = None) -> Text:
    if not isinstance(value, dict):
        raise MitigationRulesError(path, "expected a mapping with en and fr", rule_id=rule_id, field=field)
    for language in LANGUAGES:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise MitigationRulesError(path, f"missing {language.upper()} text", rule_id=rule_id,
                                       field=f"{field}.{language}")
    return Text(value["en"].strip(), value["fr"].strip())


def _positive_int(value: object, path, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MitigationRulesError(path, f"expected a positive whole number of hours, got {value!r}", field=field)
    return value


def _priorities(raw: object, path) -> dict[str, Priority]:
    if not isinstance(raw, dict) or not raw:
        raise MitigationRulesError(path, "expected a mapping of priority codes", field="priorities")
    priorities: dict[str, Priority] = {}
    for code, entry in raw.items():
        field = f"priorities.{code}"
        if not isinstance(entry, dict):
            raise MitigationRulesError(path, "expected name, response_hours, claim_hours", field=field)
        extra = set(entry) - {"name", "response_hours", "claim_hours"}
        if extra:
            raise MitigationRulesError(path, "unknown key", field=f"{field}.{sorted(map(str, extra))[0]}")
        priorities[str(code)] = Priority(
            code=str(code),
            name=_text(entry.get("name"), path, f"{field}.name"),
            response_hours=_positive_int(entry.get("response_hours"), path, f"{field}.response_hours"),
            claim_hours=_positive_int(entry.get("claim_hours"), path, f"{field}.claim_hours"),
        )
    # Urgency is the listing order; response times must agree with it or "escalate" means nothing.
    ordered = list(priorities.values())
    for before, after in zip(ordered, ordered[1:]):
        if after.response_hours <= before.response_hours:
            raise MitigationRulesError(
                path, f"list priorities from most to least urgent: {after.code} must have a longer "
                      f"response time than {before.code}", field=f"priorities.{after.code}.response_hours")
    return priorities


def _labels(raw: object, path, section: str) -> dict[str, Text]:
    if not isinstance(raw, dict) or not raw:
        raise MitigationRulesError(path, "expected a mapping of codes to en/fr names", field=section)
    return {str(code): _text(names, path, f"{section}.{code}") for code, names in raw.items()}


def _rules(raw: object, context: _Context) -> tuple[MitigationRule, ...]:
    if not isinstance(raw, list) or not raw:
        raise context.error("expected a non-empty list of rules", field="rules")
    rules: list[MitigationRule] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        rule = _rule(entry, index, context)
        if rule.id in seen:
            raise context.error("duplicate rule id", rule_id=rule.id, field="id")
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules)


def _rule(entry: object, index: int, context: _Context) -> MitigationRule:
    if not isinstance(entry, dict):
        raise context.error("expected a rule mapping", field=f"rules[{index}]")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise context.error("every rule needs an id", rule_id=f"#{index + 1}", field="id")
    for key in entry:
        if key not in _RULE_KEYS:
            raise context.error(f"unknown key (allowed: {', '.join(_RULE_KEYS)})", rule_id, str(key))
    for key in _REQUIRED_RULE_KEYS:
        if key not in entry:
            raise context.error("missing", rule_id, key)
    if entry["sector"] not in context.sectors:
        raise context.error(f"unknown sector {entry['sector']!r} (add it under sectors:)", rule_id, "sector")
    scope = entry["scope"]
    if scope not in SCOPES:
        raise context.error(f"unknown scope {scope!r} (allowed: {', '.join(SCOPES)})", rule_id, "scope")
    priority = _priority_code(entry["priority"], context, rule_id, "priority")
    trigger = _condition(entry["trigger"], "trigger", scope, context, rule_id)
    escalate = _escalations(entry.get("escalate"), priority, scope, context, rule_id)
    task_per = _task_per(entry.get("task_per"), scope, context, rule_id)
    while_unconfirmed = _while_unconfirmed(entry.get("while_unconfirmed"), priority, scope, context, rule_id)
    return MitigationRule(
        id=rule_id,
        sector=entry["sector"],
        scope=scope,
        title=_text(entry["title"], context.path, "title", rule_id),
        description=_text(entry["description"], context.path, "description", rule_id),
        priority=priority,
        expertise=_expertise(entry["expertise"], context, rule_id),
        trigger=trigger,
        escalate=escalate,
        task_per=task_per,
        while_unconfirmed=while_unconfirmed,
    )


def _task_per(value: object, scope: str, context: _Context, rule_id: str) -> str:
    if value is None:
        return "site"
    if scope != "site":
        raise context.error("only site rules take task_per (an admin_area rule is one task per area already)",
                            rule_id, "task_per")
    if value not in TASK_PER:
        raise context.error(f"unknown task_per {value!r} (allowed: {', '.join(TASK_PER)})", rule_id, "task_per")
    return value


def _while_unconfirmed(value: object, priority: str, scope: str, context: _Context, rule_id: str) -> str:
    if value is None:
        return WAIT
    if scope != "site":
        raise context.error("only site rules take while_unconfirmed (areas have no key informants)",
                            rule_id, "while_unconfirmed")
    if value == WAIT:
        return WAIT
    code = _priority_code(value, context, rule_id, "while_unconfirmed")
    if list(context.priorities).index(code) < list(context.priorities).index(priority):
        raise context.error(f"an unconfirmed signal may not make the task more urgent than {priority}",
                            rule_id, "while_unconfirmed")
    return code


def _priority_code(value: object, context: _Context, rule_id: str, field: str) -> str:
    if value not in context.priorities:
        allowed = ", ".join(context.priorities) + (f", {WAIT}" if field == "while_unconfirmed" else "")
        raise context.error(f"unknown priority {value!r} (allowed: {allowed})", rule_id, field)
    return value


def _expertise(value: object, context: _Context, rule_id: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise context.error("expected a non-empty list of expertise tags", rule_id, "expertise")
    for i, tag in enumerate(value):
        if tag not in context.expertise:
            raise context.error(f"unknown expertise {tag!r} (add it under expertise:)", rule_id, f"expertise[{i}]")
    if len(set(value)) != len(value):
        raise context.error("an expertise tag is listed twice", rule_id, "expertise")
    return tuple(value)


def _escalations(raw: object, base: str, scope: str, context: _Context, rule_id: str):
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise context.error("expected a list of {when, priority}", rule_id, "escalate")
    escalations = []
    for i, entry in enumerate(raw):
        field = f"escalate[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"when", "priority"}:
            raise context.error("expected exactly the keys when and priority", rule_id, field)
        priority = _priority_code(entry["priority"], context, rule_id, f"{field}.priority")
        if context.priorities and list(context.priorities).index(priority) >= list(context.priorities).index(base):
            raise context.error(f"escalation must raise the priority above {base}, not to {priority}",
                                rule_id, f"{field}.priority")
        when = _condition(entry["when"], f"{field}.when", scope, context, rule_id)
        escalations.append(Escalation(when, priority))
    return tuple(escalations)


def _condition(raw: object, field: str, scope: str, context: _Context, rule_id: str) -> Condition:
    try:
        condition = parse_condition(raw, field)
    except ConditionError as exc:
        raise context.error(exc.message, rule_id, exc.where) from exc
    for where, leaf in iter_leaves(condition, field):
        key = leaf_key(leaf)
        if scope == "site" and key in AREA_ONLY_KEYS:
            raise context.error(f"'{key}' is an admin-area fact; this is a site rule", rule_id, where)
        if scope == "admin_area" and key in SITE_ONLY_KEYS:
            raise context.error(f"'{key}' is a site fact; this is an admin_area rule", rule_id, where)
        if isinstance(leaf, IndicatorCondition) and context.scales is not None:
            _check_against_scale(leaf, context, rule_id, where)
    return condition


def _check_against_scale(leaf: IndicatorCondition, context: _Context, rule_id: str, field: str) -> None:
    scale = context.scales.get(leaf.indicator)
    if scale is None:
        raise context.error(f"unknown indicator {leaf.indicator!r}", rule_id, f"{field}.indicator")
    if leaf.operator == "phase_at_least":
        return
    codes = leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)
    # Ordinal comparisons need a code with a place on the scale; dnk/pnta have none.
    allowed = set(scale) if leaf.operator in ORDINAL_OPERATORS else set(scale) | NON_ANSWERS
    for code in codes:
        if code not in allowed:
            raise context.error(f"{code!r} is not an answer code of {leaf.indicator} "
                                f"(codes: {', '.join(scale) or 'none, it is a number'})",
                                rule_id, f"{field}.{leaf.operator}")


def indicator_scales(indicator_catalogue) -> dict[str, tuple[str, ...]]:
    """Indicator id -> scored answer codes, lowest phase first, from the scoring catalogue
    (crisis_ct.scoring.catalogue.Catalogue, read duck-typed so this module does not depend on
    it). Counts get an empty scale; the non-scored follow-up lists (e.g. REC_OFFERS_TYPES)
    get their codes, unordered, under the detail's upper-cased name."""
    scales: dict[str, tuple[str, ...]] = {}
    for indicator in indicator_catalogue.indicators:
        scored = [(choice.phase, position, choice.code)
                  for position, choice in enumerate(indicator.choices) if choice.phase is not None]
        scales[indicator.id] = tuple(code for _, _, code in sorted(scored))
        for detail in getattr(indicator, "details", ()):
            scales[detail.name.upper()] = tuple(
                choice.code for choice in detail.choices if choice.code not in NON_ANSWERS)
    return scales
