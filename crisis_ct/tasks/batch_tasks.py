"""What task generation reads before it plans a batch of scorings, in one query: each
place's own tasks, the area tasks (rules with `task_per: admN`) of the admin areas the
batch's sites lie in, and which open area tasks list a site of the batch.

A re-score of one site is a dozen round trips, and these reads were four of them (the
fourth read the area tasks again before updating them: the rows read here carry what the
update and its history need). A batch of thousands of sites reads them per 1,000 sites."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.tasks import states
from crisis_ct.tasks.models import MitigationTask, TaskSite

_TASKS = MitigationTask.__table__
_SITES = TaskSite.__table__
_CHUNK = 1000
# Every row, whatever it was read for: what the planners and the writers use of a task.
_COLUMNS = (_TASKS.c.id, _TASKS.c.place_key, _TASKS.c.admin_area_id, _TASKS.c.rule_id, _TASKS.c.status,
            _TASKS.c.priority, _TASKS.c.assessment_date, _TASKS.c.due_at, _TASKS.c.needs_review,
            _TASKS.c.review_reason, _TASKS.c.operation_id, _TASKS.c.closed_at)
# What each row was read as (its `kind` column).
OWN, AREA, LISTING = "own", "area", "listing"


@dataclass
class BatchTasks:
    area_rule_ids: Collection[str]
    own: dict[str, list] = field(default_factory=dict)  # place_key -> the place's own tasks
    # (area id, rule id) -> every task of the area rule in that area, open or closed
    area: dict[tuple[int, str], list] = field(default_factory=lambda: defaultdict(list))
    # (area id, rule id) -> the batch's sites its open task lists
    listed: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    area_rows: dict[int, object] = field(default_factory=dict)  # area task id -> its row
    areas_read: set[int] = field(default_factory=set)

    def add(self, rows: Iterable) -> None:
        for row in rows:
            if row.kind == OWN:
                self.own.setdefault(row.place_key, []).append(row)
            elif row.kind == LISTING:
                self.listed[(row.admin_area_id, row.rule_id)].append(row.listed_site_id)
            # The area's tasks of other rules (its own, M03) are left out here: few rows, and
            # no list of rule ids to send. Two chunks of sites may share an area.
            elif row.rule_id in self.area_rule_ids and row.id not in self.area_rows:
                self.area_rows[row.id] = row
                self.area[(row.admin_area_id, row.rule_id)].append(row)


def read_batch_tasks(session: Session, site_ids: Sequence[int], area_place_ids: Sequence[int],
                     site_areas: Mapping[int, Mapping[int, int]], area_rule_ids: Collection[str]) -> BatchTasks:
    """The tasks of a batch scoring these sites (in these admin areas: site id -> {level:
    area id}) and these admin areas (their own tasks)."""
    found = BatchTasks(area_rule_ids)
    for chunk in _chunks(sorted(site_ids)):
        areas = sorted({area for site in chunk for area in site_areas.get(site, {}).values()} - found.areas_read)
        found.areas_read.update(areas)
        if areas and area_rule_ids:
            found.add(session.execute(_statement("own_sites", "listing", "area_tasks"),
                                      {"site_ids": chunk, "area_ids": areas}))
        else:
            found.add(session.execute(_statement("own_sites", "listing"), {"site_ids": chunk}))
    for chunk in _chunks(sorted(area_place_ids)):
        found.add(session.execute(_statement("own_areas"), {"area_ids": chunk}))
    # A listed site that now lies in another area (its P-codes changed) leaves the task of
    # an area not read above; planning it needs that area's tasks too.
    elsewhere = sorted({area for area, _ in found.listed} - found.areas_read)
    for chunk in _chunks(elsewhere):
        found.areas_read.update(chunk)
        found.add(session.execute(_statement("area_tasks"), {"area_ids": chunk}))
    return found


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


@cache
def _statement(*parts: str) -> sa.Select | sa.CompoundSelect:
    """The query of these parts, built once: building the union took longer than running it."""
    selects = [_PARTS[part]() for part in parts]
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


def _rows(kind: str, listed_site=None) -> sa.Select:
    listed = listed_site if listed_site is not None else sa.cast(sa.null(), sa.Integer)
    return sa.select(sa.literal_column(f"'{kind}'", sa.String).label("kind"), *_COLUMNS,
                     listed.label("listed_site_id"))


def _in(name: str):
    return sa.bindparam(name, expanding=True)


_PARTS = {
    # By site_id / admin_area_id, whose indexes serve any status (the place_key index is
    # partial: open tasks only); place_key is derived from scope and that id.
    "own_sites": lambda: _rows(OWN).where(_TASKS.c.site_id.in_(_in("site_ids")), _TASKS.c.scope == "site"),
    "own_areas": lambda: _rows(OWN).where(_TASKS.c.admin_area_id.in_(_in("area_ids")),
                                          _TASKS.c.scope == "admin_area"),
    "area_tasks": lambda: _rows(AREA).where(_TASKS.c.admin_area_id.in_(_in("area_ids")),
                                            _TASKS.c.scope == "admin_area"),
    "listing": lambda: (
        _rows(LISTING, _SITES.c.site_id).select_from(_SITES.join(_TASKS, _TASKS.c.id == _SITES.c.task_id))
        .where(_SITES.c.site_id.in_(_in("site_ids")), _TASKS.c.status.not_in(sorted(states.FINAL_STATES)))),
}
