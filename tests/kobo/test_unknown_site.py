"""Item 6 and 8 of issue 11: a site id crisis-ct does not know is never merged with a
nearby site; a coordinator resolves it (API, CLI) or imports the site (then the worker
replays it). Replay and resolve stay inside the caller's operation."""
from __future__ import annotations


import pytest
import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.kobo.auto_replay import replay_resolved
from crisis_ct.kobo.forms import register_asset
from crisis_ct.kobo.models import QuarantinedSubmission, Submission
from crisis_ct.geography.models import Site
from crisis_ct.timeutil import utcnow
from tests.conftest import auth
from tests.support.kobo_world import SubmissionMaker, count, post_record


def near_s1(code="S1-B"):
    """A submission naming a site id crisis-ct does not know, 150 m from site S1."""
    record = SubmissionMaker().make("S1")
    record["site/site_id"] = code
    record["site/location"] = "0.501 0.501 0 5"
    return record


def test_an_unknown_site_id_near_a_known_site_is_quarantined_with_the_nearest_sites(client, webhook_world, database):
    response = post_record(client, webhook_world.token, near_s1())
    assert response.status_code == 202
    body = response.get_json()
    assert body["reason_code"] == "unknown_site" and "S1-B" in body["reason"] and "S1 (Camp one" in body["reason"]
    assert count(database, Submission) == 0
    item = client.get("/api/v1/kobo/quarantine", headers=auth(webhook_world.coordinator)).get_json()["items"][0]
    nearest = item["details"]["nearest_sites"]
    assert nearest[0]["site_id"] == "S1" and nearest[0]["name"] == "Camp one"
    assert 100 < nearest[0]["distance_m"] < 200


def test_a_coordinator_resolves_it_by_naming_the_right_site(client, webhook_world, database):
    quarantine_id = post_record(client, webhook_world.token, near_s1()).get_json()["quarantine_id"]
    wrong = client.post(f"/api/v1/kobo/quarantine/{quarantine_id}/resolve", json={"site_id": "NOPE"},
                        headers=auth(webhook_world.coordinator))
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "invalid_site"
    response = client.post(f"/api/v1/kobo/quarantine/{quarantine_id}/resolve", json={"site_id": "S2"},
                           headers=auth(webhook_world.coordinator))
    assert response.status_code == 200 and response.get_json()["status"] == "stored"
    with database.session() as session:
        site_code = session.scalar(sa.select(Site.site_code).join(Submission, Submission.site_id == Site.id))
        row = session.scalar(sa.select(QuarantinedSubmission))
    assert site_code == "S2" and row.status == "replayed"
    assert row.raw["site/site_id"] == "S1-B"  # the quarantine keeps what was received


def test_resolve_from_the_command_line(app, client, webhook_world, database):
    quarantine_id = post_record(client, webhook_world.token, near_s1()).get_json()["quarantine_id"]
    result = app.test_cli_runner().invoke(main, ["kobo", "resolve", str(quarantine_id), "--site", "S1"])
    assert result.exit_code == 0, result.output
    assert "stored at site S1" in result.output
    assert count(database, Submission) == 1


def test_importing_the_site_lets_the_worker_store_it_by_itself(client, webhook_world, database):
    post_record(client, webhook_world.token, near_s1())
    with database.session() as session:
        assert replay_resolved(session, utcnow()) == 0
    webhook_world.add_site(database, "S1-B", "Camp one block B", "planned_camp", 0.501, 0.501)
    with database.session() as session:
        assert replay_resolved(session, utcnow()) == 1
    with database.session() as session:
        assert session.scalar(sa.select(Site.site_code).join(Submission, Submission.site_id == Site.id)) == "S1-B"


def test_the_quarantine_list_shows_reason_attempts_and_last_attempt_on_the_command_line(app, client, webhook_world):
    post_record(client, webhook_world.token, near_s1())
    post_record(client, webhook_world.token, near_s1())  # delivered again: one row, two attempts
    result = app.test_cli_runner().invoke(main, ["kobo", "quarantine", "--operation", "op1"])
    assert "unknown_site; 2 attempt(s), last " in result.output and "1 pending" in result.output


def test_a_coordinator_of_one_operation_cannot_replay_into_another(client, webhook_world, database, seed):
    """A submitter of op1 sends a record naming op2's project: it waits in op1's quarantine.
    Op1's coordinator replaying it must not store it into op2's data."""
    seed.operation("op2")
    with database.session() as session:
        from crisis_ct.geography.operations import get_operation

        register_asset(session, get_operation(session, "op2").id, "aOtherOperation01")
    record = SubmissionMaker().make("S1")
    record["_xform_id_string"] = "aOtherOperation01"
    body = post_record(client, webhook_world.token, record).get_json()
    assert body["reason_code"] == "unknown_asset"
    replayed = client.post(f"/api/v1/kobo/quarantine/{body['quarantine_id']}/replay",
                           headers=auth(webhook_world.coordinator))
    assert replayed.status_code == 200 and replayed.get_json()["status"] == "quarantined"
    assert "another operation" in replayed.get_json()["reason"]
    resolved = client.post(f"/api/v1/kobo/quarantine/{body['quarantine_id']}/resolve", json={"site_id": "S1"},
                           headers=auth(webhook_world.coordinator))
    assert resolved.get_json()["status"] == "quarantined"
    with database.session() as session:
        assert replay_resolved(session, utcnow()) == 0
    assert count(database, Submission) == 0


def test_a_coordinator_of_another_operation_cannot_see_or_replay_the_row(client, webhook_world, database, seed):
    seed.operation("op2")
    other = seed.member("coord2@example.org", "coordinator", "op2")
    quarantine_id = post_record(client, webhook_world.token, near_s1()).get_json()["quarantine_id"]
    for action, body in (("replay", None), ("resolve", {"site_id": "S1"})):
        response = client.post(f"/api/v1/kobo/quarantine/{quarantine_id}/{action}", json=body, headers=auth(other))
        assert response.status_code == 404
    assert count(database, Submission) == 0


def test_the_worker_stores_it_by_itself_once_the_site_is_imported_and_rescores_the_site(app, client, webhook_world, database):
    from crisis_ct.scoring.models import SiteRiskScore

    post_record(client, webhook_world.token, near_s1())
    webhook_world.add_site(database, "S1-B", "Camp one block B", "planned_camp", 0.501, 0.501)
    result = app.test_cli_runner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert count(database, Submission) == 1
    with database.session() as session:
        scored = session.scalars(sa.select(Site.site_code).join(SiteRiskScore, SiteRiskScore.site_id == Site.id)).all()
    assert "S1-B" in scored


def test_a_project_connected_later_lets_the_worker_store_its_submissions(client, webhook_world, database):
    from crisis_ct.kobo.forms import add_form_version
    from tests.support.kobo_world import form

    record = SubmissionMaker().make("S1")
    record["_xform_id_string"] = "aConnectedLater01"
    assert post_record(client, webhook_world.token, record).get_json()["reason_code"] == "unknown_asset"
    with database.session() as session:
        assert replay_resolved(session, utcnow()) == 0
        asset = register_asset(session, webhook_world.operation_id, "aConnectedLater01")
        add_form_version(session, asset, form())
    with database.session() as session:
        assert replay_resolved(session, utcnow()) == 1
    assert count(database, Submission) == 1


def test_an_xform_id_string_that_is_not_text_is_quarantined_not_a_500(client, webhook_world):
    record = SubmissionMaker().make("S1")
    record["_xform_id_string"] = 12345
    response = post_record(client, webhook_world.token, record)
    assert response.status_code == 202 and response.get_json()["reason_code"] == "unknown_asset"


def test_a_quarantine_longer_than_one_batch_is_looked_at_in_turn(client, webhook_world, database):
    maker = SubmissionMaker()
    for code in ("X1", "X2", "X3"):
        record = maker.make("S1")
        record["site/site_id"] = code
        post_record(client, webhook_world.token, record)
    webhook_world.add_site(database, "X3", "Camp X3", "planned_camp", 0.2, 0.2)
    stored = 0
    for _ in range(3):  # batches of one: the third row's turn comes
        with database.session() as session:
            stored += replay_resolved(session, utcnow(), limit=1)
    assert stored == 1 and count(database, Submission) == 1
