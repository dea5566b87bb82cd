"""The rows of the site page's "why this phase" table, from the explanation that
crisis_ct.scoring.reads.site_risk returns: names and answers in the page's language,
the key-informant counts, and which indicators set the phase. Plain functions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from crisis_ct.scoring.catalogue import Catalogue

DOMAIN_ORDER = ("V", "R", "E", "S", "C")


@dataclass(frozen=True)
class IndicatorRow:
    indicator_id: str
    name: str
    domain: str
    answer: str  # the combined answer, in words
    phase: int | None
    n_yes: int | None
    n_answered: int | None
    consensus: bool
    unconfirmed: bool
    critical: bool
    driver: bool
    suppressed: bool


def _choice_label(catalogue: Catalogue, indicator_id: str, code: str, language: str) -> str:
    try:
        indicator = catalogue.get(indicator_id)
    except KeyError:
        return code
    for choice in indicator.choices:
        if choice.code == code:
            return choice.label.get(language) or choice.label.get("en") or code
    return code


def answer_text(catalogue: Catalogue, indicator_id: str, value: object, language: str) -> str:
    """'Few', 'Yes', '51.5', 'Begging, Selling assets'; '—' when the informants gave no usable answer."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_choice_label(catalogue, indicator_id, str(code), language) for code in value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return _choice_label(catalogue, indicator_id, str(value), language)


def _name(item: Mapping, language: str) -> str:
    names = item.get("name") or {}
    return names.get(language) or names.get("en") or item["indicator_id"]


def indicator_rows(explanation: Mapping, catalogue: Catalogue, language: str) -> list[IndicatorRow]:
    """Every indicator of the explanation, drivers first, then by domain in catalogue order."""
    drivers = set(explanation.get("drivers") or ())
    rows = []
    for item in explanation.get("indicators") or ():
        suppressed = bool(item.get("suppressed"))
        rows.append(IndicatorRow(
            indicator_id=item["indicator_id"], name=_name(item, language), domain=item.get("domain") or "",
            answer="" if suppressed else answer_text(catalogue, item["indicator_id"], item.get("value"), language),
            phase=None if suppressed else item.get("phase"),
            n_yes=None if suppressed else item.get("n_yes"),
            n_answered=None if suppressed else item.get("n_answered"),
            consensus=bool(item.get("consensus")), unconfirmed=bool(item.get("unconfirmed")),
            critical=bool(item.get("critical")), driver=item["indicator_id"] in drivers and not suppressed,
            suppressed=suppressed))
    order = {domain: index for index, domain in enumerate(DOMAIN_ORDER)}
    # sorted() is stable: within a domain the catalogue's order stays.
    return sorted(rows, key=lambda row: (not row.driver, order.get(row.domain, len(order))))


def indicator_names(explanation: Mapping, ids: Sequence[str], language: str) -> list[str]:
    """Names of the listed indicators (critical or unconfirmed signals), never of suppressed rows."""
    by_id = {item["indicator_id"]: item for item in explanation.get("indicators") or ()}
    names = []
    for indicator_id in ids:
        item = by_id.get(indicator_id)
        if item is not None and item.get("suppressed"):
            continue
        names.append(_name(item, language) if item else indicator_id)
    return names
