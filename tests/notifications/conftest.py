"""A small world for the notification tests: the tasks tests' geography (two adm1, sites
S0-S2 in XZ0101, S3 in XZ0102), people with expertise, languages and areas, and helpers
that act on tasks through the tasks' own functions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import User
from crisis_ct.notifications import preferences
from crisis_ct.notifications.detect import detect
from crisis_ct.notifications.models import Notification
from crisis_ct.notifications.rules import notification_rules
from tests.tasks.test_generation_db import ARMED_RECRUITMENT, build_world, generate, site_score, task_for

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


class World:
    def __init__(self, database, sites, people):
        self.database, self.sites, self.people = database, sites, people

    def user_id(self, email: str) -> int:
        with self.database.session() as session:
            return session.scalar(sa.select(User.id).where(User.email == email))

    def prefer(self, who: str, /, **changes) -> None:
        with self.database.session() as session:
            preferences.save(session, self.user_id(who), changes, now=NOW)

    def detect(self, now: datetime, since: datetime | None = None) -> int:
        with self.database.session() as session:
            return detect(session, notification_rules(), now, since=since)

    def notifications(self, kind: str | None = None) -> list[tuple[str, str]]:
        """(email, kind) of every stored notification, in id order."""
        with self.database.session() as session:
            query = (sa.select(User.email, Notification.kind).join(User, User.id == Notification.user_id)
                     .order_by(Notification.id))
            if kind:
                query = query.where(Notification.kind == kind)
            return [tuple(row) for row in session.execute(query)]

    def rows(self, kind: str | None = None) -> list[Notification]:
        with self.database.session() as session:
            query = sa.select(Notification).order_by(Notification.id)
            if kind:
                query = query.where(Notification.kind == kind)
            return list(session.scalars(query))

    def p1_task(self, code: str, now: datetime = NOW):
        """Site `code` gets M05 (P1, CP) and its district M01 (P2, CT) and M23 (P3)."""
        generate(self.database, self.sites[code], site_score(ARMED_RECRUITMENT), now=now)
        return task_for(self.database, self.sites[code], "M05")


@pytest.fixture
def world(database, seed, tmp_path):
    sites = build_world(database, seed, tmp_path)
    people = {
        "cp": seed.member("cp@op1.org", "expert", expertise=["CP"]),
        "cp_fr": seed.member("cp-fr@op1.org", "expert", expertise=["CP"], languages=["fr"]),
        "cp_ar": seed.member("cp-ar@op1.org", "expert", expertise=["CP"], languages=["ar"]),
        "cp_far": seed.member("cp-far@op1.org", "expert", expertise=["CP"]),
        "cp_near": seed.member("cp-near@op1.org", "expert", expertise=["CP"]),
        "legal": seed.member("legal@op1.org", "expert", expertise=["LEGAL"]),
        "coordinator": seed.member("coord@op1.org", "coordinator"),
        "viewer": seed.member("viewer@op1.org", "viewer"),
    }
    build_world(database, seed, tmp_path, "op2", sites=[("T0", "Other camp", "planned_camp", 0.5, 0.5, 10, 2)])
    people["outsider"] = seed.member("cp@op2.org", "expert", "op2", expertise=["CP"])
    world = World(database, sites, people)
    world.prefer("cp-far@op1.org", areas=["XZ02"])  # the other province
    world.prefer("cp-near@op1.org", near_lon=0.82, near_lat=0.5, radius_km=5)  # ~2 km from S2 only
    return world


def acting(world: World, email: str, role: str, expertise=("CP",)):
    from crisis_ct.tasks.claims import Acting

    return Acting(Actor(world.user_id(email), email), role, tuple(expertise))


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)
