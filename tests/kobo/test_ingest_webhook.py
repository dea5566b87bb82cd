import json
import random

import pytest
import sqlalchemy as sa

from crisis_ct.kobo.models import QuarantinedSubmission, Submission, SubmissionVersion
from crisis_ct.kobo.synthetic import make_edit
from crisis_ct.scoring.queue import ScoringQueueEntry
from tests.conftest import auth
from tests.support.kobo_world import WEBHOOK_URL, SubmissionMaker, count, post_record

URL = WEBHOOK_URL


@pytest.fixture
def world(webhook_world):
    return webhook_world


def post(client, token, record):
    return post_record(client, token, record)


def test_a_new_submission_is_stored_and_its_site_queued_for_scoring(client, world, database):
    response = post(client, world.token, SubmissionMaker().make("S1"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "stored"
    with database.session() as session:
        submission = session.scalars(sa.select(Submission)).one()
        queued = session.scalars(sa.select(ScoringQueueEntry.site_id)).all()
    assert submission.matched_by == "site_id"
    assert queued == [submission.site_id]


def test_the_same_submission_twice_is_stored_once(client, world, database):
    record = SubmissionMaker().make("S1")
    assert post(client, world.token, record).status_code == 201
    again = post(client, world.token, record)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert count(database, Submission) == 1 and count(database, SubmissionVersion) == 1


def test_an_edit_replaces_the_version_it_deprecates_and_keeps_history(client, world, database):
    maker = SubmissionMaker()
    original = maker.make("S1", answers={"pop_uasc": "none"})
    edited = make_edit(original, {"pop/pop_uasc": "most"}, rng=random.Random(3))
    post(client, world.token, original)
    assert post(client, world.token, edited).status_code == 201
    with database.session() as session:
        submission = session.scalars(sa.select(Submission)).one()
        versions = session.scalars(sa.select(SubmissionVersion.instance_id).order_by(SubmissionVersion.id)).all()
    assert submission.answers["pop_uasc"] == "most"
    assert submission.instance_id == edited["meta/instanceID"]
    assert versions == [original["meta/instanceID"], edited["meta/instanceID"]]
    assert submission.version_count == 2


def test_an_edit_arriving_before_its_original_still_ends_as_one(client, world, database):
    maker = SubmissionMaker()
    original = maker.make("S2", answers={"pop_uasc": "none"})
    edited = make_edit(original, {"pop/pop_uasc": "many"}, rng=random.Random(4))
    assert post(client, world.token, edited).status_code == 201
    late = post(client, world.token, original)
    assert late.status_code == 201 and late.get_json()["status"] == "history"
    with database.session() as session:
        submission = session.scalars(sa.select(Submission)).one()
    assert submission.answers["pop_uasc"] == "many"
    assert count(database, SubmissionVersion) == 2


def test_a_submission_for_an_unknown_site_is_quarantined_then_replayed(client, world, database, seed):
    record = SubmissionMaker().make("S9", site_type="planned_camp")
    record["site/location"] = "30.0 30.0 0 5"
    response = post(client, world.token, record)
    assert response.status_code == 202
    body = response.get_json()
    assert body["reason_code"] == "unknown_site" and "S9" in body["reason"]
    assert count(database, Submission) == 0

    coordinator = world.coordinator
    listed = client.get("/api/v1/kobo/quarantine", headers=auth(coordinator)).get_json()
    assert [item["site_id"] for item in listed["items"]] == ["S9"]
    world.add_site(database, "S9", "Camp nine", "planned_camp", 0.2, 0.2)
    replayed = client.post(f"/api/v1/kobo/quarantine/{body['quarantine_id']}/replay", headers=auth(coordinator))
    assert replayed.status_code == 200 and replayed.get_json()["status"] == "stored"
    assert client.get("/api/v1/kobo/quarantine", headers=auth(coordinator)).get_json()["total"] == 0
    assert count(database, Submission) == 1


def test_a_value_outside_the_forms_choices_is_quarantined_with_the_reason(client, world):
    record = SubmissionMaker().make("S1")
    record["pop/pop_uasc"] = "lots"
    body = post(client, world.token, record).get_json()
    assert body["status"] == "quarantined"
    assert "pop_uasc" in body["reason"] and "lots" in body["reason"]


def test_an_unknown_form_version_whose_answers_do_not_fit_is_quarantined(client, world):
    record = SubmissionMaker().make("S1")
    record["__version__"] = "vSomethingElse"
    record["pop/pop_brand_new_question"] = "12"
    body = post(client, world.token, record).get_json()
    assert body["reason_code"] == "unknown_form_version"
    assert "pop/pop_brand_new_question" in body["reason"]


def test_a_submission_naming_no_site_is_matched_by_location_within_the_distance(client, world, database):
    record = SubmissionMaker().make("S1")
    del record["site/site_id"]
    record["site/location"] = "0.501 0.501 0 5"  # ~150 m from S1 at (lat 0.5, lon 0.5)
    assert post(client, world.token, record).status_code == 201, post(client, world.token, record).get_json()
    with database.session() as session:
        assert session.scalars(sa.select(Submission.matched_by)).one() == "location"


@pytest.mark.parametrize("body, content_type, status, code", [
    ("not json", "application/json", 400, "invalid_json"),
    ("[1, 2]", "application/json", 400, "not_a_submission"),
    ('{"site/site_id": "S1"}', "application/json", 400, "not_a_submission"),
    ("<data/>", "application/xml", 415, "unsupported_media_type"),
])
def test_requests_that_are_not_a_submission_get_a_clear_4xx(client, world, body, content_type, status, code):
    response = client.post(URL, data=body, content_type=content_type, headers=auth(world.token))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_a_too_large_body_is_413(app, client, world):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(URL, data="{" + " " * 2000 + "}", content_type="application/json",
                           headers=auth(world.token))
    assert response.status_code == 413


def test_the_token_may_come_as_the_basic_auth_password(client, world):
    import base64
    basic = base64.b64encode(f"kobo:{world.token}".encode()).decode()
    response = client.post(URL, data=json.dumps(SubmissionMaker().make("S1")), content_type="application/json",
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 201


def test_a_viewer_cannot_submit(client, world, seed):
    viewer = seed.member("viewer@example.org", "viewer")
    assert post(client, viewer, SubmissionMaker().make("S1")).status_code == 403
