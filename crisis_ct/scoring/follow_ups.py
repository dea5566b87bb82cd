"""Follow-up answers (an indicator's non-scored `details`, e.g. rec_offers_types) combined per
site, so mitigation rules can read them (rule M26: REC_OFFERS_TYPES includes travel_transport).

They never change a phase. Combined like the R domain they belong to ("yes prevails", §2.5): a
choice any key informant of the round made is in the site's answer; don't-know and refusals are
not choices.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crisis_ct.scoring.catalogue import Catalogue
    from crisis_ct.scoring.rules import KiInterview

NOT_CHOICES = frozenset({"dnk", "pnta"})


def follow_up_answers(catalogue: Catalogue, interviews: Iterable[KiInterview]) -> dict[str, tuple[str, ...]]:
    """Follow-up id (its question name upper-cased) -> the choices any key informant made,
    sorted; follow-ups nobody answered are left out."""
    ids = catalogue.follow_up_id_by_name.values()
    chosen: dict[str, set[str]] = {}
    for interview in interviews:
        for follow_up in ids:
            codes = _codes(interview.answers.get(follow_up))
            if codes:
                chosen.setdefault(follow_up, set()).update(codes)
    return {follow_up: tuple(sorted(codes)) for follow_up, codes in chosen.items()}


def _codes(value: object) -> set[str]:
    if value is None:
        return set()
    items = value.split() if isinstance(value, str) else value if isinstance(value, (list, tuple)) else ()
    return {str(item) for item in items} - NOT_CHOICES


def follow_ups_from_json(data: Mapping | None) -> dict[str, tuple[str, ...]]:
    """From SiteScore.to_dict()'s JSON (absent in explanations stored before follow-ups)."""
    return {key: tuple(codes) for key, codes in (data or {}).items()}
