"""What one site's re-score costs the database (issue 15): the statements it sends in the
steady state (a re-score that changes no task list, as most re-scores after one new
interview do), counted so that a change adding round trips fails here; and after a full
re-score on PostgreSQL, fresh planner statistics of the tables it bulk-wrote."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.geography.models import Site
from crisis_ct.scoring.service import BULK_WRITTEN_TABLES, rescore_sites, score_all
from crisis_ct.tasks.models import MitigationTask, TaskSite
from tests.support.kobo_world import SubmissionMaker, build_world, store_as_webhook

# Statements of a steady-state re-score of one site, commit not counted (none is sent as a
# statement). PostgreSQL: sites with areas and submissions; the scoring lock; the current
# score flipped; the new score; the site's and its areas' tasks; the site's own tasks
# refreshed; its rows in area task lists refreshed; those area tasks touched; the areas
# marked changed. SQLite: the same without the lock, and the transaction's BEGIN.
MAX_STATEMENTS = {"postgresql": 9, "sqlite": 9}
NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.fixture
def world(database, seed, tmp_path):
    world = build_world(database, seed, tmp_path)
    maker = SubmissionMaker(seed=4)
    # High-risk interviews at two sites of one area: site tasks, and area tasks listing both.
    store_as_webhook(database, *[maker.make(code, risk=0.9) for code in ("S1", "S2") for _ in range(3)])
    with database.session() as session:
        score_all(session, world.operation_id, now=NOW)
        world.site_id = session.scalar(sa.select(Site.id).where(Site.site_code == "S1"))
    return world


def statements_of_rescore(database, site_id: int) -> list[str]:
    sent: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", count)
    try:
        with database.session() as session:
            rescore_sites(session, [site_id], now=NOW, areas_now=False)
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count)
    return sent


def test_a_steady_state_rescore_of_one_site_sends_a_handful_of_statements(database, world):
    with database.session() as session:
        own_tasks = session.scalar(sa.select(sa.func.count()).select_from(MitigationTask)
                                   .where(MitigationTask.site_id == world.site_id))
        listing = session.scalar(sa.select(sa.func.count()).select_from(TaskSite)
                                 .where(TaskSite.site_id == world.site_id))
    assert own_tasks and listing, "the site must have tasks of its own and be listed by area tasks"
    statements_of_rescore(database, world.site_id)  # settles anything the full re-score left different

    sent = statements_of_rescore(database, world.site_id)

    assert len(sent) <= MAX_STATEMENTS[database.dialect], "\n".join(sent)
    # It did the whole job: the tasks and the list rows were written, the areas marked.
    written = " ".join(sent)
    for table in ("site_risk_scores", "mitigation_tasks", "mitigation_task_sites", "area_scoring_queue"):
        assert f"INSERT INTO {table}" in written or f"UPDATE {table}" in written, table


def test_a_full_rescore_leaves_fresh_statistics_of_what_it_wrote_on_postgresql(database, world):
    if database.dialect != "postgresql":
        pytest.skip("SQLite's planner keeps no statistics unless asked to")
    with database.engine.connect() as connection:
        started = connection.scalar(sa.text("SELECT clock_timestamp()"))
    with database.session() as session:
        score_all(session, world.operation_id, now=NOW)
    with database.engine.connect() as connection:
        analyzed = dict(connection.execute(
            sa.text("SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname IN :tables")
            .bindparams(sa.bindparam("tables", expanding=True)), {"tables": list(BULK_WRITTEN_TABLES)}).all())
    assert sorted(analyzed) == sorted(BULK_WRITTEN_TABLES)
    assert all(at is not None and at >= started for at in analyzed.values()), analyzed
