"""A scored operation for the referral pages: op1 (tests/support/kobo_world) where site S1's
key informants know no referral pathway and report unaccompanied children (so M01 and M04
open), S2 is calm; people of every role; and a small directory."""
from __future__ import annotations

from datetime import timedelta

import pytest

from crisis_ct.timeutil import utcnow
from tests.web.conftest import sign_in

RECENT = (utcnow().date() - timedelta(days=5)).isoformat()

CASE_MANAGER = {"organisation": "Alliance CT", "service_types": "ct_case_management;child_protection",
                "area_pcodes": "XZ01", "service_point_name": "Bureau Alpha", "longitude": "0.9", "latitude": "0.9",
                "focal_point_role": "CT focal point", "office_phone": "+999 555 0101",
                "office_email": "ct@alliance.example.org", "languages": "fr", "last_verified_on": RECENT}
NEAR_CLINIC = {"organisation": "Near Clinic", "service_types": "child_protection", "area_pcodes": "XZ0101",
               "service_point_name": "Clinic by the camp", "longitude": "0.55", "latitude": "0.55",
               "last_verified_on": "2020-01-01"}
OTHER_PROVINCE = {"organisation": "Far Away", "service_types": "child_protection", "area_pcodes": "XZ02"}


@pytest.fixture
def referral_world(database, seed, tmp_path):
    from crisis_ct.kobo.ingest import Ingestor
    from crisis_ct.kobo.models import KoboAsset
    from crisis_ct.scoring.service import score_all
    from tests.support.kobo_world import SubmissionMaker, build_world

    world = build_world(database, seed, tmp_path)
    maker = SubmissionMaker()
    risky = {"svc_referral": "no", "pop_uasc": "many"}
    with database.session() as session:
        records = [maker.make("S1", risk=0.6, answers=risky) for _ in range(3)] + \
                  [maker.make("S2", risk=0.05) for _ in range(3)]
        Ingestor(session, session.get(KoboAsset, world.asset_id), via="test").ingest(records)
        score_all(session, world.operation_id)
    for email, role in (("viewer@example.org", "viewer"), ("a@example.org", "expert"),
                        ("coord@example.org", "coordinator")):
        seed.member(email, role, "op1")
    return world


def add_providers(database, operation_id: int, *entries) -> list[int]:
    from crisis_ct.accounts.audit import Actor
    from crisis_ct.referral.directory import save_provider
    from crisis_ct.referral.service_types import service_types

    ids = []
    with database.session() as session:
        for entry in entries:
            ids.append(save_provider(session, Actor.system("test"), operation_id, dict(entry), types=service_types(),
                                     today=utcnow().date()).id)
        session.commit()
    return ids


@pytest.fixture
def signed_in_as(app, referral_world):
    def make(email: str):
        client = app.test_client()
        sign_in(client, email)
        return client

    return make
