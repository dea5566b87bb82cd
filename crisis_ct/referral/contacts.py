"""The referral contacts of the /my page (issue 18 item 5): for each task shown there, the
providers of the services its rule needs that cover its place, nearest first.

The phone keeps this document offline, so it carries the institutional fields a referral
needs (organisation, service point, focal point's role, office phone and email, hours,
languages, requirements, when last verified) and nothing else of the directory: no provider
id or code, no coverage areas, no coordinates. Only for whoever may read the directory in
the task's operation (experts and coordinators); viewers get none.
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.referral import places
from crisis_ct.referral.service_types import ServiceTypeCatalogue, service_types
from crisis_ct.tasks.models import MitigationTask

# Enough to refer someone today; the task page and the directory list them all.
MAX_PROVIDERS_PER_TASK = 5


def task_contacts(session: Session, principal: Principal, tasks: Iterable[dict]) -> list[dict]:
    """[{task_id, providers: [contact, …]}] for the tasks (task JSON with `id` and `rule_id`)
    whose rule needs a service type, in their order; providers may be empty (nobody covers
    the place: the page says so). A few queries per task: the caller bounds the tasks."""
    task_ids = list(dict.fromkeys(task["id"] for task in tasks))
    if not task_ids:
        return []
    loaded = {task.id: task for task in session.scalars(
        sa.select(MitigationTask).where(MitigationTask.id.in_(task_ids)))}
    catalogue = service_types()
    contacts = []
    for task_id in task_ids:
        task = loaded.get(task_id)
        if task is None or not principal.has_role(task.operation_id, "expert"):
            continue
        needed = places.rule_service_types(task.rule_id)
        if not needed:
            continue
        listed = places.task_providers(session, task, needed)[:MAX_PROVIDERS_PER_TASK]
        contacts.append({"task_id": task_id, "providers": [contact_json(item, catalogue) for item in listed]})
    return contacts


def contact_json(item: places.Listed, catalogue: ServiceTypeCatalogue) -> dict:
    """A provider as /my shows it. Service types carry both labels: the page, kept offline,
    may be switched to the other language."""
    provider = item.provider
    return {
        "organisation": provider.organisation,
        "service_types": [{"code": code, "label": _labels(catalogue, code)} for code in item.matching_types],
        "service_point_name": provider.service_point_name,
        "distance_km": round(item.km, 1) if item.km is not None else None,
        "languages": list(provider.languages or ()),
        "opening_hours": provider.opening_hours,
        "focal_point_role": provider.focal_point_role,
        "office_phone": provider.office_phone,
        "office_email": provider.office_email,
        "referral_requirements": provider.referral_requirements,
        "last_verified_on": provider.last_verified_on.isoformat() if provider.last_verified_on else None,
    }


def _labels(catalogue: ServiceTypeCatalogue, code: str) -> dict[str, str]:
    service_type = catalogue.types.get(code)
    if service_type is None:
        return {"en": code, "fr": code}
    return {"en": service_type.label.en, "fr": service_type.label.fr}
