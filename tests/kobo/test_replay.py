"""`crisis-ct kobo replay`: every pending quarantined submission tried again."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.kobo.models import QuarantinedSubmission, Submission
from tests.conftest import auth
from tests.support.geo_fixtures import write_sites_csv
from tests.support.kobo_world import SubmissionMaker, build_world


@pytest.fixture
def world(database, seed, tmp_path):
    world = build_world(database, seed, tmp_path)
    world.token = seed.member("kobo@example.org", "submitter")
    return world


def quarantine_unknown_site(client, token, code="S9", maker=None):
    record = (maker or SubmissionMaker()).make(code, site_type="planned_camp")
    record["site/location"] = "30.0 30.0 0 5"
    response = client.post("/api/v1/kobo/submissions", json=record, headers=auth(token))
    assert response.status_code == 202
    return record


def replay(app, *args):
    return app.test_cli_runner().invoke(main, ["kobo", "replay", *args], catch_exceptions=False)


def test_what_still_cannot_be_stored_stays_quarantined_with_its_reason(app, client, world, database):
    record = quarantine_unknown_site(client, world.token)
    result = replay(app)
    assert result.exit_code == 0
    assert f"{record['meta/instanceID']}: stays quarantined (unknown_site)" in result.output
    assert "S9" in result.output and "0 stored, 1 still quarantined" in result.output
    with database.session() as session:
        row = session.scalar(sa.select(QuarantinedSubmission))
    assert (row.status, row.attempts) == ("pending", 2)


def test_after_the_site_is_imported_replay_stores_it(app, client, world, database, tmp_path):
    record = quarantine_unknown_site(client, world.token)
    sites = write_sites_csv(tmp_path / "more.csv", [("S9", "Camp nine", "planned_camp", 0.2, 0.2, 100, 20)])
    assert app.test_cli_runner().invoke(main, ["geo", "import-sites", str(sites), "--operation", "op1"]).exit_code == 0
    result = replay(app, "--operation", "op1")
    assert f"{record['meta/instanceID']}: stored" in result.output
    assert "1 stored, 0 still quarantined" in result.output
    with database.session() as session:
        assert session.scalar(sa.select(Submission.instance_id)) == record["meta/instanceID"]
        assert session.scalar(sa.select(QuarantinedSubmission.status)) == "replayed"


def test_replay_of_one_operation_leaves_the_others_alone(app, client, world, database, seed):
    quarantine_unknown_site(client, world.token)
    seed.operation("op2")
    result = replay(app, "--operation", "op2")
    assert "replayed 0" in result.output
    with database.session() as session:
        assert session.scalar(sa.select(QuarantinedSubmission.attempts)) == 1


def test_replay_of_an_unknown_operation_fails(app, world):
    result = app.test_cli_runner().invoke(main, ["kobo", "replay", "--operation", "nope"])
    assert result.exit_code != 0
