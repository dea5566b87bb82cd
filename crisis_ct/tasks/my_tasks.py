"""What the /my page shows an expert in the field, as one JSON document: the tasks they hold
(with their claim's expiry), open tasks they could take near them, the key facts of each
site those tasks are about, and the referral contacts of those tasks.

`my_tasks` is the one place this data is read, on purpose: the page's offline copy and the
API (`GET /api/v1/my`) both come from it. Tasks and sites pass through the role projection
(crisis_ct.projection: tasks via queries.as_seen_by, sites via projection.sites.site), so
this page shows what the map and the task API show the same person. Site facts are the
sites GeoJSON's properties, never indicator answers (domain phases only, which also keeps
small sites' exploitation answers out, domain.md §4.3).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.geography.models import Operation, Site
from crisis_ct.projection import sites as site_projection
from crisis_ct.scoring.reads import site_risk_columns
from crisis_ct.tasks import queries
from crisis_ct.tasks.service import catalogues

HELD_LIMIT = 100  # MAX_ACTIVE_CLAIMS is far below this
NEARBY_LIMIT = 20
DEFAULT_WITHIN_KM = 50.0
# The referral contacts of the tasks shown: [{"task_id", "providers": [...]}] (crisis_ct.referral.contacts).
REFERRAL_CONTACTS_KEY = "referral_contacts"


def my_tasks(session: Session, principal: Principal, *, now: datetime, near: tuple[float, float] | None = None,
             within_km: float | None = None) -> dict:
    """The /my document for `principal` (expert or above in some operation).

    - `held`: the tasks they hold now, each with `claim.expires_at` / `seconds_left`.
    - `nearby`: open tasks needing one of their expertise tags, in operations working in one
      of their languages; nearest first within `within_km` of `near` (LON, LAT) when given,
      else by priority and due date.
    - `sites`: site_key(operation code, site code) -> key facts, for every site the tasks above are about.
    - `referral_contacts`: for the tasks above whose rule needs a service, the directory's
      providers covering the task's place, nearest first (crisis_ct.referral.contacts).
    """
    operation_ids = principal.operation_ids("expert")
    priorities = list(catalogues()[0].priorities)

    def listed(filters: queries.TaskFilters, limit: int) -> list[dict]:
        if not operation_ids:
            return []
        _, items = queries.list_tasks(session, operation_ids, filters, priorities=priorities, now=now,
                                      limit=limit, offset=0)
        return [queries.as_seen_by(principal, item) for item in items]

    held = listed(queries.TaskFilters(held_by=principal.user_id), HELD_LIMIT)
    nearby = []
    if principal.expertise:
        nearby = listed(queries.TaskFilters(
            status="open", any_expertise=tuple(principal.expertise), languages=tuple(principal.languages),
            near=near, within_km=(within_km or DEFAULT_WITHIN_KM) if near else None), NEARBY_LIMIT)
    return {
        "generated_at": now.isoformat(),
        "user": {"id": principal.user_id, "display_name": principal.display_name, "expertise": list(principal.expertise),
                 "languages": list(principal.languages)},
        "near": {"lon": near[0], "lat": near[1], "within_km": within_km or DEFAULT_WITHIN_KM} if near else None,
        "held": held,
        "nearby": nearby,
        "sites": site_key_facts(session, principal, operation_ids, _site_codes([*held, *nearby])),
        REFERRAL_CONTACTS_KEY: _referral_contacts(session, principal, [*held, *nearby]),
    }


def _referral_contacts(session: Session, principal: Principal, tasks: list[dict]) -> list[dict]:
    # crisis_ct.referral is built on crisis_ct.tasks (it reads the task models and the rules'
    # service types), so it is imported when called, not at the top: crisis_ct.tasks stays
    # importable without it and the two packages have no import cycle (as crisis_ct.demo does).
    from crisis_ct.referral.contacts import task_contacts

    return task_contacts(session, principal, tasks)


def site_key(operation_code: str, site_code: str) -> str:
    """How `sites` is keyed: a site code is unique only within its operation."""
    return f"{operation_code}:{site_code}"


def _site_codes(items: Iterable[dict]) -> list[str]:
    codes: set[str] = set()
    for item in items:
        if item.get("site_id"):
            codes.add(item["site_id"])
        codes.update(site["site_id"] for site in item.get("sites") or ())
    return sorted(codes)


def site_key_facts(session: Session, principal: Principal, operation_ids: Sequence[int],
                   site_codes: Sequence[str]) -> dict[str, dict]:
    """site_key(operation, site code) -> the site's properties as the sites GeoJSON names them
    (site_id, name, site_type, households, population, admN_pcode, phase, domain_phases,
    confidence, recency, assessment_date; the map's ageing of confidence and recency), as
    the principal may see them (crisis_ct.projection.sites)."""
    if not operation_ids or not site_codes:
        return {}
    sites = Site.__table__
    scores, onclause, risk = site_risk_columns(session, sites)
    rows = session.execute(
        sa.select(Operation.code.label("operation_code"), sites.c.operation_id, sites.c.site_code, sites.c.name, sites.c.site_type, sites.c.population_households,
                  sites.c.population_individuals, sites.c.adm1_pcode, sites.c.adm2_pcode, sites.c.adm3_pcode,
                  *(column.label(name) for name, column in risk.items()))
        .select_from(sites.join(Operation.__table__, Operation.id == sites.c.operation_id)
                     .outerjoin(scores, onclause))
        .where(sites.c.operation_id.in_(list(operation_ids)), sites.c.site_code.in_(list(site_codes)))).all()
    facts = {}
    for row in rows:
        domain_phases = row.domain_phases
        if isinstance(domain_phases, str):  # SQLite hands the JSON back as text
            domain_phases = json.loads(domain_phases)
        # The names of the sites GeoJSON, so the role projection reads them as it reads a map's site.
        properties = {
            "site_id": row.site_code, "name": row.name, "site_type": row.site_type,
            "households": row.population_households, "population": row.population_individuals,
            "adm1_pcode": row.adm1_pcode, "adm2_pcode": row.adm2_pcode, "adm3_pcode": row.adm3_pcode,
            "phase": row.phase, "domain_phases": domain_phases or {}, "confidence": row.confidence,
            "recency": row.recency, "assessment_date": row.assessment_date}
        facts[site_key(row.operation_code, row.site_code)] = site_projection.site(principal, row.operation_id,
                                                                                  properties)
    return facts
