"""Kobo's review and deletions reach crisis-ct through the pull sync (issue 11, items 4 and 5):
validation status stored, not-approved interviews left out of scores with the reason,
on-hold ones flagged; deleted ones withdrawn — and only after a complete listing."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.models import KoboAsset, Submission, SubmissionVersion
from crisis_ct.kobo.sync import FAILED, OK, sync_asset
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.service import process_queue
from fake_kobo_projects import validation_status
from tests.conftest import auth
from tests.support.kobo_world import ASSET_UID, SubmissionMaker

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(served_world):
    return served_world


@pytest.fixture
def client(fake_kobo):
    return KoboClient(fake_kobo.base_url, "test-token", sleep=lambda s: None, max_retries=2)


@pytest.fixture
def three_at_s1(database, world, fake_kobo, client):
    """Three interviews at S1 in Kobo, synced and scored."""
    maker = SubmissionMaker(seed=5)
    records = [maker.make("S1", risk=0.9 if i == 0 else 0.1) for i in range(3)]
    fake_kobo.add_records(ASSET_UID, records)
    assert sync_asset(database, ASSET_UID, client, now=NOW).status == OK
    rescore(database)
    return records


def rescore(database) -> None:
    with database.session() as session:
        process_queue(session)


def current_score(database) -> SiteRiskScore:
    with database.session() as session:
        return session.scalar(sa.select(SiteRiskScore).where(SiteRiskScore.is_current))


def submission(database, kobo_id: int) -> Submission:
    with database.session() as session:
        return session.scalar(sa.select(Submission).where(Submission.kobo_id == kobo_id))


def review(fake_kobo, kobo_id: int, status: str) -> None:
    [record] = [r for r in fake_kobo.assets[ASSET_UID].records if r["_id"] == kobo_id]
    record["_validation_status"] = validation_status(status)


def test_not_approved_in_kobo_is_left_out_of_the_score_and_the_explanation_says_so(
        database, fake_kobo, client, three_at_s1):
    before = current_score(database)
    assert len(before.explanation["submission_ids"]) == 3
    rejected = three_at_s1[0]
    review(fake_kobo, rejected["_id"], "validation_status_not_approved")

    result = sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    assert result.status == OK and result.review_changes == 1
    stored = submission(database, rejected["_id"])
    assert stored.validation_status == "validation_status_not_approved"
    rescore(database)
    after = current_score(database)
    assert after.id != before.id
    assert stored.id not in after.explanation["submission_ids"] and len(after.explanation["submission_ids"]) == 2
    assert after.explanation["review"]["left_out"] == {"not_approved": 1, "withdrawn": 0, "total": 1}
    assert "not approved" in after.explanation["review"]["summary"]


def test_status_changes_are_asked_for_by_their_timestamp(database, fake_kobo, client, three_at_s1):
    review(fake_kobo, three_at_s1[1]["_id"], "validation_status_approved")
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    with database.session() as session:
        seen = session.scalar(sa.select(KoboAsset.validation_seen_ts))
    assert seen == three_at_s1[1]["_validation_status"]["timestamp"]
    fake_kobo.requests.clear()
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    queries = [json.loads(r.params["query"]) for r in fake_kobo.data_requests(ASSET_UID) if "query" in r.params]
    assert {"_validation_status.timestamp": {"$gt": seen - 1}} in queries


def test_on_hold_counts_but_is_flagged(database, fake_kobo, client, three_at_s1):
    held = three_at_s1[2]
    review(fake_kobo, held["_id"], "validation_status_on_hold")
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    rescore(database)
    score = current_score(database)
    stored = submission(database, held["_id"])
    assert stored.id in score.explanation["submission_ids"]
    assert score.explanation["review"]["on_hold"] == [stored.id]
    assert score.explanation["review"]["left_out"]["total"] == 0


def test_a_status_cleared_in_kobo_is_cleared_by_the_catch_up_window(database, fake_kobo, client, three_at_s1):
    record = three_at_s1[0]
    review(fake_kobo, record["_id"], "validation_status_not_approved")
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    record["_validation_status"] = {}
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=14)
    assert submission(database, record["_id"]).validation_status is None


def test_coordinators_see_the_status_in_the_submissions_list(app, database, seed, fake_kobo, client, three_at_s1):
    review(fake_kobo, three_at_s1[0]["_id"], "validation_status_not_approved")
    review(fake_kobo, three_at_s1[1]["_id"], "validation_status_on_hold")
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    token = seed.member("coord@example.org", "coordinator")
    body = app.test_client().get("/api/v1/kobo/submissions", headers=auth(token)).get_json()
    by_id = {item["kobo_id"]: item for item in body["items"]}
    assert (by_id[three_at_s1[0]["_id"]]["validation_status"], by_id[three_at_s1[0]["_id"]]["counted"]) == \
        ("not_approved", False)
    assert (by_id[three_at_s1[1]["_id"]]["validation_status"], by_id[three_at_s1[1]["_id"]]["counted"]) == \
        ("on_hold", True)
    assert by_id[three_at_s1[2]["_id"]]["validation_status"] is None


def test_a_webhook_delivery_carrying_a_status_stores_it(app, database, seed, world):
    record = SubmissionMaker(seed=8).make("S2")
    record["_validation_status"] = validation_status("validation_status_on_hold", timestamp=1_790_000_000)
    token = seed.member("kobo@example.org", "submitter")
    response = app.test_client().post("/api/v1/kobo/submissions", json=record, headers=auth(token))
    assert response.status_code == 201
    stored = submission(database, record["_id"])
    assert (stored.validation_status, stored.validation_timestamp) == ("validation_status_on_hold", 1_790_000_000)


# -- deletions --------------------------------------------------------------------------------------
def test_a_submission_deleted_in_kobo_is_withdrawn_kept_in_history_and_rescored(database, fake_kobo, client,
                                                                                three_at_s1):
    gone = three_at_s1[0]
    fake_kobo.delete_record(ASSET_UID, gone["_id"])
    result = sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    assert result.status == OK and result.deletions == {"withdrawn": 1, "restored": 0, "listed": 2}
    stored = submission(database, gone["_id"])
    assert stored.withdrawn_at is not None and stored.withdrawn_reason == "deleted_in_kobo"
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SubmissionVersion)
                              .where(SubmissionVersion.submission_id == stored.id)) == 1
    rescore(database)
    score = current_score(database)
    assert stored.id not in score.explanation["submission_ids"]
    assert score.explanation["review"]["left_out"]["withdrawn"] == 1
    listing = [r for r in fake_kobo.data_requests(ASSET_UID) if "fields" in r.params]
    assert listing and all(json.loads(r.params["fields"]) == ["_id"] for r in listing)


def test_the_listing_is_paged(database, fake_kobo, client, three_at_s1):
    fake_kobo.delete_record(ASSET_UID, three_at_s1[1]["_id"])
    result = sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0, page_size=1)
    assert result.deletions["withdrawn"] == 1
    assert len([r for r in fake_kobo.data_requests(ASSET_UID) if "fields" in r.params]) >= 2


def test_a_listing_that_fails_part_way_withdraws_nothing(database, fake_kobo, client, three_at_s1):
    fake_kobo.delete_record(ASSET_UID, three_at_s1[0]["_id"])
    # The second page of the _id listing (it asks for _id above the last one read) keeps failing.
    fake_kobo.fail_matching(lambda path, params: "fields" in params and "query" in params, 10, status=502)
    result = sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0, page_size=1)
    assert result.status == FAILED and result.deletions is None
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Submission)
                              .where(Submission.withdrawn_at.is_not(None))) == 0


def test_a_sync_whose_bodies_are_cut_short_withdraws_nothing(database, fake_kobo, three_at_s1):
    client = KoboClient(fake_kobo.base_url, "test-token", sleep=lambda s: None, max_retries=0)
    fake_kobo.delete_record(ASSET_UID, three_at_s1[0]["_id"])
    result = sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0, check_deletions=False)
    assert result.status == OK
    # Every body from here on is cut short: the listing cannot complete.
    fake_kobo.misbehave_next(10, "truncate")
    result = sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    assert result.status == FAILED
    assert submission(database, three_at_s1[0]["_id"]).withdrawn_at is None


def test_a_submission_stored_after_the_listing_began_is_not_withdrawn(database, world, fake_kobo, client, app,
                                                                     seed):
    sync_asset(database, ASSET_UID, client, now=NOW)
    # Delivered by the webhook but never in Kobo's listing (as if it arrived after the last page).
    record = SubmissionMaker(seed=9).make("S3")
    token = seed.member("kobo@example.org", "submitter")
    assert app.test_client().post("/api/v1/kobo/submissions", json=record, headers=auth(token)).status_code == 201
    from crisis_ct.kobo.review import withdraw_missing

    with database.session() as session:
        stored = session.scalar(sa.select(Submission))
        tally = withdraw_missing(session, stored.asset_id, [], listed_since=stored.created_at)
    assert tally.withdrawn == 0


def test_a_full_rescore_leaves_out_the_same_interviews(database, world, fake_kobo, client, three_at_s1):
    from crisis_ct.scoring.service import score_all

    review(fake_kobo, three_at_s1[0]["_id"], "validation_status_not_approved")
    fake_kobo.delete_record(ASSET_UID, three_at_s1[1]["_id"])
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    with database.session() as session:
        score_all(session, world.operation_id)
    score = current_score(database)
    assert score.explanation["submission_ids"] == [submission(database, three_at_s1[2]["_id"]).id]
    assert score.explanation["review"]["left_out"] == {"not_approved": 1, "withdrawn": 1, "total": 2}


def test_a_site_left_with_no_counted_interview_has_no_current_score(database, fake_kobo, client, three_at_s1):
    for record in three_at_s1:
        review(fake_kobo, record["_id"], "validation_status_not_approved")
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=0)
    rescore(database)
    assert current_score(database) is None
