"""The demo operation `make run` loads: geography, submissions through the real
ingestion path, scores with every state, and tasks that re-scoring never duplicates."""
import sqlalchemy as sa
from shapely import wkb

from crisis_ct.accounts.audit import Actor
from crisis_ct.demo import load_demo
from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.kobo.models import Submission
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.scoring.service import score_all
from crisis_ct.tasks.board_figures import MAX_OPEN_PER_SITE, board_figures
from crisis_ct.tasks.models import MitigationTask, TaskSite


def test_the_demo_operation_has_scored_sites_areas_and_tasks(database):
    with database.session() as session:
        operation = load_demo(session, Actor.system("test"))
    with database.session() as session:
        sites = session.scalar(sa.select(sa.func.count()).select_from(Site))
        levels = set(session.scalars(sa.select(AdminArea.level).distinct()))
        via = set(session.scalars(sa.select(Submission.received_via).distinct()))
        phases = set(session.scalars(sa.select(SiteRiskScore.phase).where(SiteRiskScore.is_current)))
        statuses = set(session.scalars(sa.select(AdminAreaRiskScore.status).where(AdminAreaRiskScore.is_current)))
        tasks = session.execute(sa.select(MitigationTask.evidence, MitigationTask.site_score_id,
                                          MitigationTask.area_score_id, MitigationTask.id)).all()
        # An area task of a site rule is triggered by the scores of the sites it lists.
        listed = {task_id for task_id, score_id in session.execute(
            sa.select(TaskSite.task_id, TaskSite.site_score_id)) if score_id}
    assert sites >= 200 and levels == {1, 2, 3}
    assert via == {"demo"}
    assert len(phases - {None}) >= 4
    assert {"classified", "insufficient_data"} <= statuses
    assert tasks and all(evidence and (site_score or area_score or task_id in listed)
                         for evidence, site_score, area_score, task_id in tasks)

    with database.session() as session:
        score_all(session, operation.id)
    with database.session() as session:
        again = session.scalar(sa.select(sa.func.count()).select_from(MitigationTask))
    assert again == len(tasks)


def test_the_demo_task_board_is_one_people_can_act_on(database):
    """Issue 12: the demo opened 2,021 tasks for 240 sites (666 at P1). Now: at most 3 open
    tasks per assessed site, and P1 only where a site is at phase >= 4 or has a confirmed
    critical signal."""
    with database.session() as session:
        operation = load_demo(session, Actor.system("test"))
    with database.session() as session:
        figures = board_figures(session, operation.id)
    assert figures.assessed_sites >= 150
    assert figures.open_per_assessed_site <= MAX_OPEN_PER_SITE, figures
    assert figures.p1_open_tasks > 0 and figures.p1_outside_urgent_sites == 0, figures


def test_every_demo_site_lies_inside_its_adm3_polygon(database):
    with database.session() as session:
        load_demo(session, Actor.system("test"))
    with database.session() as session:
        areas = {pcode: wkb.loads(bytes(geom)) for pcode, geom in session.execute(
            sa.select(AdminArea.pcode, sa.func.ST_AsBinary(AdminArea.geom)).where(AdminArea.level == 3))}
        sites = session.execute(sa.select(Site.adm3_pcode, sa.func.ST_AsBinary(Site.geom))).all()
    assert sites and all(areas[pcode].contains(wkb.loads(bytes(point))) for pcode, point in sites)
