"""The exports run against the projection tests' world (tests/projection/conftest.py): sites
small and large, areas with 4, 1, 2 and no assessed sites, tasks held and commented, and
people of every role."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.models import User
from tests.projection.conftest import EXPERT, projection_world, signed_in_as  # noqa: F401 - fixtures

EXPERT_ORGANISATION = "Organisation Kilo"


@pytest.fixture
def export_world(projection_world, database):
    with database.session() as session:
        session.execute(sa.update(User).where(User.email == EXPERT).values(organisation=EXPERT_ORGANISATION))
        session.commit()
    return projection_world


def read_csv(body: bytes) -> tuple[list[str], list[str], list[dict]]:
    """(headers, HXL hashtags, rows keyed by header)."""
    lines = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    headers, tags = lines[0], lines[1]
    return headers, tags, [dict(zip(headers, line)) for line in lines[2:]]
