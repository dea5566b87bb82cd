"""The wording a new task points at: the catalogue's rule texts, stored once per distinct
wording (crisis_ct.tasks.models.MitigationRuleText) and found again by digest."""
from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.spatial import spatial_sql
from crisis_ct.tasks.catalogue import MitigationCatalogue
from crisis_ct.tasks.models import MitigationRuleText, rule_text_digest

_TEXTS = MitigationRuleText.__table__


@lru_cache(maxsize=8)
def catalogue_texts(catalogue: MitigationCatalogue) -> dict[str, dict]:
    """rule id -> the row its tasks point at (digest, title, description); first rule wins,
    as catalogue.rule() does."""
    texts: dict[str, dict] = {}
    for rule in catalogue.rules:
        if rule.id in texts:
            continue
        title = {"en": rule.title.en, "fr": rule.title.fr}
        description = {"en": rule.description.en, "fr": rule.description.fr}
        texts[rule.id] = {"rule_id": rule.id, "digest": rule_text_digest(rule.id, title, description),
                          "title": title, "description": description}
    return texts


def rule_text_ids(session: Session, catalogue: MitigationCatalogue, rule_ids) -> dict[str, int]:
    """The text row id of each of these rules, adding the rows this wording lacks. Two
    processes adding the same wording at once both end with the one row (ON CONFLICT)."""
    texts = catalogue_texts(catalogue)
    wanted = {texts[rule_id]["digest"]: rule_id for rule_id in set(rule_ids)}
    if not wanted:
        return {}
    found = _ids(session, wanted)
    missing = [texts[wanted[digest]] for digest in wanted if digest not in found]
    if missing:
        session.execute(spatial_sql(session).insert(_TEXTS).on_conflict_do_nothing(index_elements=["digest"]),
                        missing)
        found = _ids(session, wanted)
    return {wanted[digest]: text_id for digest, text_id in found.items()}


def _ids(session: Session, wanted: dict[str, str]) -> dict[str, int]:
    return dict(session.execute(sa.select(_TEXTS.c.digest, _TEXTS.c.id).where(_TEXTS.c.digest.in_(list(wanted))))
                .all())
