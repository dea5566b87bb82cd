"""Read side of area tasks' site lists (crisis_ct.tasks.models.TaskSite): the sites an area
task was triggered by, added to the task JSON as `sites` (with `sites_count`). The list is
site level: crisis_ct.projection.tasks keeps it from partners."""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import Site
from crisis_ct.projection import tasks as task_projection
from crisis_ct.scoring.reads import indicator_domain
from crisis_ct.tasks.models import TaskSite

# A task list shows the first sites of each area task; the task itself shows them all.
LIST_SITES = 20


def attach_sites(session: Session, items: Sequence[dict], *, limit: int | None = None) -> None:
    """Set `sites` (a list for area tasks, None for site tasks) and `sites_count` on task JSON
    items, in one query for all of them; `limit` keeps the first sites of each, by site code."""
    wanted = [item["id"] for item in items if item.get("scope") == "admin_area"]
    listed: dict[int, list[dict]] = {}
    if wanted:
        rows = session.execute(
            sa.select(TaskSite.task_id, Site.site_code, Site.name, TaskSite.priority, TaskSite.assessment_date,
                      TaskSite.evidence, Site.population_households)
            .join(Site, Site.id == TaskSite.site_id)
            .where(TaskSite.task_id.in_(wanted)).order_by(TaskSite.task_id, Site.site_code))
        for task_id, code, name, priority, assessed, evidence, households in rows:
            listed.setdefault(task_id, []).append({
                "site_id": code, "site_name": name, "priority": priority,
                "assessment_date": assessed.isoformat() if assessed else None,
                # Each listed site's evidence under the small-site rule, as a site task's is.
                "evidence": task_projection.evidence(evidence, households=households, site_scope=True,
                                                     domain_of=indicator_domain)})
    for item in items:
        if item.get("scope") != "admin_area":
            item["sites"], item["sites_count"] = None, None
            continue
        sites = listed.get(item["id"], [])
        item["sites_count"] = len(sites)
        item["sites"] = sites[:limit] if limit is not None else sites


def listing_site(site_code: str) -> sa.Select:
    """Ids of the area tasks that list the site with this code."""
    return (sa.select(TaskSite.task_id).join(Site, Site.id == TaskSite.site_id)
            .where(Site.site_code == site_code))


def listing_site_in(pcode: str) -> sa.Select:
    """Ids of the area tasks that list a site of this admin area (any level)."""
    return (sa.select(TaskSite.task_id).join(Site, Site.id == TaskSite.site_id)
            .where(sa.or_(Site.adm1_pcode == pcode, Site.adm2_pcode == pcode, Site.adm3_pcode == pcode)))
