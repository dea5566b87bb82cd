"""A populated world for the projection tests, built through the real pipeline (Kobo records
-> ingestion -> scoring -> task generation -> claims through the API): sites small and large,
admin 3 areas with 4, 1 and 2 assessed sites (and one with none), tasks with evidence, holders,
comments and history, and people of every role with names that cannot occur by chance."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.models import User
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.kobo.ingest import Ingestor
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.notifications.detect import detect
from crisis_ct.notifications.models import Notification
from crisis_ct.notifications.rules import notification_rules
from crisis_ct.scoring.models import AdminAreaRiskScore
from crisis_ct.scoring.service import catalogue, score_all
from crisis_ct.tasks.models import MitigationTask
from crisis_ct.timeutil import utcnow
from tests.conftest import auth
from tests.support.kobo_world import SITE_LOCATIONS, SITE_TYPES, SubmissionMaker, build_world
from tests.web.conftest import signed_in_client

# (site_id, name, type, lat, lon, individuals, households); admin 3 squares of tests/support/geo_fixtures.
SITES = [
    ("SITEPA1", "Projection Alpha", "planned_camp", 0.2, 0.2, 1200, 240),      # XZ010101, risky
    ("SITEPA2", "Projection Bravo", "self_settled", 0.6, 0.3, 800, 160),       # XZ010101
    ("SITEPA3", "Projection Charlie", "collective_centre", 0.7, 0.7, 60, 12),  # XZ010101, small, risky
    ("SITEPA4", "Projection Delta", "planned_camp", 0.3, 0.6, 400, 80),        # XZ010101
    ("SITEPB1", "Projection Echo", "transit_centre", 1.5, 0.5, 90, 15),        # XZ010102: 1 assessed, small
    ("SITEPC1", "Projection Foxtrot", "self_settled", 0.5, 1.5, 500, 100),     # XZ010201: 2 assessed
    ("SITEPC2", "Projection Golf", "self_settled", 0.4, 1.4, 300, 60),         # XZ010201
    ("SITEPD1", "Projection Hotel", "border_point", 0.5, 2.5, 700, 140),       # XZ020101: none assessed
]
RISK = {"SITEPA1": 0.8, "SITEPA2": 0.05, "SITEPA3": 0.8, "SITEPA4": 0.05, "SITEPB1": 0.8, "SITEPC1": 0.7,
        "SITEPC2": 0.05}
SEX_EXCHANGE_AT = ("SITEPA1", "SITEPA3", "SITEPB1")  # every KI there answers EXP_SEX_EXCHANGE = yes
SMALL_SITES = ("SITEPA3", "SITEPB1")

VIEWER = "vera.viewer@example.org"
EXPERT = "anna.expert@example.org"
COORDINATOR = "carl.coordinator@example.org"
COMMENT = "Visit planned by anna.expert"


@dataclass
class ProjectionWorld:
    operation_id: int
    tokens: dict[str, str]
    site_codes: list[str]
    site_names: list[str]
    pcodes: list[str]
    task_ids: list[int]  # every area task, the held ones, and one site task per site
    area_task_shown: int  # an area task of an area with >= 3 assessed sites, held by the expert
    site_task_held: int  # a site task at SITEPA1, held by the expert
    people: dict[str, str] = field(default_factory=dict)  # email -> display name
    operation_codes: list[str] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)  # the viewer, the expert and the coordinator
    notification_ids: list[int] = field(default_factory=list)  # none of them the viewer's


def _answers(site_code: str) -> dict[str, str]:
    if site_code not in SEX_EXCHANGE_AT:
        return {}
    return {"sensitive_ok": "yes", catalogue().get("EXP_SEX_EXCHANGE").name: "yes"}


@pytest.fixture
def projection_world(database, seed, tmp_path, app) -> ProjectionWorld:
    world = build_world(database, seed, tmp_path, sites=SITES)
    # The maker reads each site's type and point from these (codes no other test uses).
    SITE_TYPES.update({row[0]: row[2] for row in SITES})
    SITE_LOCATIONS.update({row[0]: (row[3], row[4]) for row in SITES})
    maker = SubmissionMaker(5)
    records = [maker.make(code, risk=risk, answers=_answers(code)) for code, risk in RISK.items() for _ in range(3)]
    with database.session() as session:
        Ingestor(session, session.get(KoboAsset, world.asset_id), via="test").ingest(records)
        score_all(session, world.operation_id)
    tokens = {VIEWER: seed.member(VIEWER, "viewer"),
              EXPERT: seed.member(EXPERT, "expert", expertise=["CT", "CP", "GBV", "PSEA", "LEGAL", "HEALTH"]),
              COORDINATOR: seed.member(COORDINATOR, "coordinator")}
    with database.session() as session:
        assessed = {area_id: (summary or {}).get("sites_assessed") or 0 for area_id, summary in session.execute(
            sa.select(AdminAreaRiskScore.admin_area_id, AdminAreaRiskScore.summary)
            .where(AdminAreaRiskScore.is_current))}
        tasks = session.scalars(sa.select(MitigationTask).order_by(MitigationTask.id)).all()
        area_tasks = [t for t in tasks if t.scope == "admin_area"]
        shown = [t.id for t in area_tasks if assessed.get(t.admin_area_id, 0) >= 3]
        hidden = [t.id for t in area_tasks if 0 < assessed.get(t.admin_area_id, 0) < 3]
        pa1 = session.scalar(sa.select(Site.id).where(Site.site_code == "SITEPA1"))
        site_task = next(t.id for t in tasks if t.site_id == pa1 and t.rule_id in ("M07", "M08"))
        pcodes = list(session.scalars(sa.select(AdminArea.pcode).order_by(AdminArea.pcode)))
        first_per_site = {}
        for t in tasks:
            if t.site_id is not None:
                first_per_site.setdefault(t.site_id, t.id)
        task_ids = sorted({t.id for t in area_tasks} | set(first_per_site.values()) | {site_task})
        operation_codes = list(session.scalars(sa.select(Operation.code).order_by(Operation.code)))
        user_ids = list(session.scalars(sa.select(User.id).where(User.email.in_(list(tokens))).order_by(User.id)))
    # The world must hold what the tests are about, or they would pass for want of data.
    assert shown, "no area task in an area with >= 3 assessed sites"
    assert hidden, "no area task in an area with 1-2 assessed sites"
    client = app.test_client()
    for task_id in (shown[0], site_task):
        for action in ("claim", "progress"):
            response = client.post(f"/api/v1/tasks/{task_id}/{action}", json={"comment": COMMENT},
                                   headers=auth(tokens[EXPERT]))
            assert response.status_code == 200, response.get_json()
    # Notifications of the claims and scores above, to people who are not the viewer: the
    # viewer's requests for them must give nothing away either.
    with database.session() as session:
        detect(session, notification_rules(), utcnow(), since=utcnow() - timedelta(days=1))
    with database.session() as session:
        notification_ids = list(session.scalars(sa.select(Notification.id).order_by(Notification.id)))
    assert notification_ids, "no notification in the world"
    return ProjectionWorld(
        operation_id=world.operation_id, tokens=tokens, site_codes=[s[0] for s in SITES],
        site_names=[s[1] for s in SITES], pcodes=pcodes, task_ids=task_ids, area_task_shown=shown[0],
        site_task_held=site_task,
        people={EXPERT: EXPERT.split("@")[0], COORDINATOR: COORDINATOR.split("@")[0]},
        operation_codes=operation_codes, user_ids=user_ids, notification_ids=notification_ids)


@pytest.fixture
def signed_in_as(app, projection_world):
    return lambda email: signed_in_client(app, email)
