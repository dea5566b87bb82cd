"""Tasks of a scope by sector and priority (crisis_ct.reports.task_figures), both databases."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from crisis_ct.reports import scope as scopes
from crisis_ct.reports.task_figures import task_figures
from crisis_ct.tasks.models import MitigationTask
from crisis_ct.timeutil import utcnow


def _column(figures, column: str) -> int:
    by_priority = sum(n for (_, c), n in figures.by_priority.items() if c == column)
    assert by_priority == sum(n for (_, c), n in figures.by_sector.items() if c == column)
    return by_priority


def test_counts_by_state_scope_and_audience(database, projection_world):
    world = projection_world
    now = utcnow()
    with database.session() as session:
        session.execute(sa.update(MitigationTask).where(MitigationTask.id == world.site_task_held)
                        .values(due_at=now - timedelta(hours=1)))
        session.flush()
        tasks = session.scalars(sa.select(MitigationTask)).all()
        whole = scopes.resolve(session, world.operation_id, None)
        figures = task_figures(session, whole, now, partner_view=False)
        assert _column(figures, "open") == sum(t.status == "open" for t in tasks)
        assert _column(figures, "claimed") == 2  # the area task and the site task the expert holds
        assert _column(figures, "completed") == 0
        assert _column(figures, "overdue") == 1
        # XZ0102 holds neither held task; the site task is at SITEPA1 in XZ010101, the area
        # task's own area is somewhere with at least 3 assessed sites.
        other = task_figures(session, scopes.resolve(session, world.operation_id, "XZ0102"), now, partner_view=False)
        assert _column(other, "claimed") == 0 and _column(other, "open") > 0
        here = task_figures(session, scopes.resolve(session, world.operation_id, "XZ010101"), now, partner_view=False)
        area_task_area = session.get(MitigationTask, world.area_task_shown).admin_area_id
        area_scope = scopes.resolve(session, world.operation_id, None)
        held_area = area_scope.by_id()[area_task_area]
        assert _column(here, "claimed") == (2 if held_area.pcode == "XZ010101" else 1)
        own = task_figures(session, scopes.resolve(session, world.operation_id, held_area.pcode), now,
                           partner_view=False)
        assert _column(own, "claimed") >= 1
        # Partners count only the area tasks they may see: the site task is not one of them.
        partner = task_figures(session, whole, now, partner_view=True)
        assert _column(partner, "claimed") == 1 and _column(partner, "overdue") == 0
        assert _column(partner, "open") < _column(figures, "open")
        # A claim past its expiry counts as open, as on the task board.
        session.execute(sa.update(MitigationTask).where(MitigationTask.id == world.area_task_shown)
                        .values(claim_expires_at=now - timedelta(minutes=1)))
        session.flush()
        lapsed = task_figures(session, whole, now, partner_view=False)
        assert _column(lapsed, "claimed") == 1 and _column(lapsed, "open") == _column(figures, "open") + 1
