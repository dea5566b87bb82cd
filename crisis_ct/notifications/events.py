"""What the detectors hand on: an event, and where it happened.

An event names who it concerns in one of two ways: `user_ids` (the holder of a task, the
person it was assigned to) or an audience found by crisis_ct.notifications.recipients (the
experts whose expertise, languages and areas match; the coordinators of the operation)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.tasks.models import MitigationRuleText, MitigationTask


# A burst (a first scoring, an import) announces at most this many events of a kind per
# detection run, the most urgent first; the pages show everything.
MAX_EVENTS_PER_KIND = 200


@dataclass(frozen=True)
class Place:
    """Where an event happened, as far as matching needs it: the P-codes it lies in (its own
    and every parent's) and the row whose geometry a radius is measured to."""
    pcodes: frozenset[str]
    site_id: int | None = None
    admin_area_id: int | None = None


@dataclass(frozen=True)
class Event:
    kind: str
    key: str  # the event's identity; with the recipient's id, the notification's idempotency key
    operation_id: int | None
    payload: dict
    user_ids: tuple[int, ...] | None = None  # the people it concerns; None: its audience
    place: Place | None = None
    expertise: frozenset[str] = field(default_factory=frozenset)  # new tasks only


def area_label(area: AdminArea | None) -> dict:
    """An admin area as the notification shows it, in both languages: name and P-code."""
    if area is None:
        return {"en": "", "fr": ""}
    en = area.name_en or area.name_fr or area.pcode
    fr = area.name_fr or area.name_en or area.pcode
    return {"en": f"{en} ({area.pcode})", "fr": f"{fr} ({area.pcode})"}


def _areas_by_pcode(session: Session, operation_ids: set[int], pcodes: set[str]) -> dict[tuple[int, str], AdminArea]:
    if not pcodes:
        return {}
    rows = session.scalars(sa.select(AdminArea).where(AdminArea.operation_id.in_(operation_ids),
                                                      AdminArea.pcode.in_(pcodes)))
    return {(row.operation_id, row.pcode): row for row in rows}


def _with_parents(session: Session, operation_id: int, pcodes: set[str]) -> frozenset[str]:
    found, frontier = set(pcodes), set(pcodes)
    while frontier:  # three or four levels at most
        parents = set(session.scalars(sa.select(AdminArea.parent_pcode).where(
            AdminArea.operation_id == operation_id, AdminArea.pcode.in_(frontier),
            AdminArea.parent_pcode.is_not(None))))
        frontier = parents - found
        found |= parents
    return frozenset(found)


@dataclass(frozen=True)
class TaskFacts:
    """What a notification may say about a task, and where it is."""
    task_id: int
    operation_id: int
    priority: str
    expertise: frozenset[str]
    payload: dict  # title (en, fr), area (en, fr), priority, link
    place: Place


def task_facts(session: Session, task_ids: Iterable[int]) -> dict[int, TaskFacts]:
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    rows = session.execute(
        sa.select(MitigationTask.id, MitigationTask.operation_id, MitigationTask.priority,
                  MitigationTask.expertise_tags, MitigationTask.site_id, MitigationTask.admin_area_id,
                  MitigationRuleText.title, Site.adm1_pcode, Site.adm2_pcode, Site.adm3_pcode, AdminArea.pcode)
        .join(MitigationRuleText, MitigationRuleText.id == MitigationTask.rule_text_id)
        .outerjoin(Site, Site.id == MitigationTask.site_id)
        .outerjoin(AdminArea, AdminArea.id == MitigationTask.admin_area_id)
        .where(MitigationTask.id.in_(ids))).all()
    wanted = {code for row in rows for code in (row.adm3_pcode or row.adm2_pcode or row.adm1_pcode, row.pcode)
              if code}
    areas = _areas_by_pcode(session, {row.operation_id for row in rows}, wanted)
    facts, parents = {}, {}
    for row in rows:
        own = row.adm3_pcode or row.adm2_pcode or row.adm1_pcode if row.site_id is not None else row.pcode
        area = areas.get((row.operation_id, own)) if own else None
        pcodes = frozenset(p for p in (row.adm1_pcode, row.adm2_pcode, row.adm3_pcode, row.pcode) if p)
        if (row.operation_id, pcodes) not in parents:  # tasks share few places
            parents[row.operation_id, pcodes] = _with_parents(session, row.operation_id, set(pcodes))
        place = Place(pcodes=parents[row.operation_id, pcodes], site_id=row.site_id,
                      admin_area_id=row.admin_area_id)
        payload = {"title": dict(row.title), "area": area_label(area) if area else {"en": own or "", "fr": own or ""},
                   "priority": row.priority, "link": f"/tasks/{row.id}"}
        facts[row.id] = TaskFacts(row.id, row.operation_id, row.priority, frozenset(row.expertise_tags.split()),
                                  payload, place)
    return facts


def site_place(session: Session, site: Site) -> tuple[Place, dict]:
    """A site's place and the label of its admin area (never the site's own name)."""
    own = site.adm3_pcode or site.adm2_pcode or site.adm1_pcode
    area = _areas_by_pcode(session, {site.operation_id}, {own}).get((site.operation_id, own)) if own else None
    pcodes = {p for p in (site.adm1_pcode, site.adm2_pcode, site.adm3_pcode) if p}
    return (Place(pcodes=_with_parents(session, site.operation_id, pcodes), site_id=site.id),
            area_label(area) if area else {"en": own or "", "fr": own or ""})


def area_place(session: Session, area: AdminArea) -> Place:
    return Place(pcodes=_with_parents(session, area.operation_id, {area.pcode}), admin_area_id=area.id)
