"""Pull sync against the local fake Kobo API v2 server (no monkeypatching)."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.models import KoboAsset, KoboFormVersion, QuarantinedSubmission, Submission, SubmissionVersion
from crisis_ct.kobo.synthetic import make_edit
from crisis_ct.kobo.sync import FAILED, OK, sync_asset
from tests.conftest import auth
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, count, form

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)  # the records are submitted on 2026-11-02


@pytest.fixture
def world(served_world):
    return served_world


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(fake_kobo, waits):
    return KoboClient(fake_kobo.base_url, "test-token", sleep=waits.append, max_retries=3)


def put_records(fake_kobo, n: int, maker: SubmissionMaker | None = None) -> list[dict]:
    maker = maker or SubmissionMaker()
    records = [maker.make(f"S{1 + i % 4}") for i in range(n)]
    fake_kobo.add_records(ASSET_UID, records)
    return records


def stored(database) -> dict[int, str]:
    with database.session() as session:
        return dict(session.execute(sa.select(Submission.kobo_id, Submission.instance_id)).all())


def asset_row(database) -> KoboAsset:
    with database.session() as session:
        return session.scalar(sa.select(KoboAsset))


def test_sync_follows_next_through_every_page(database, world, fake_kobo, client):
    records = put_records(fake_kobo, 25)
    result = sync_asset(database, ASSET_UID, client, page_size=10, now=NOW)
    assert result.status == OK and result.incremental.stored == 25
    assert stored(database) == {r["_id"]: r["meta/instanceID"] for r in records}
    data_requests = [r for r in fake_kobo.data_requests(ASSET_UID) if "fields" not in r.params]  # not the _id listing
    assert [r.params.get("start") for r in data_requests] == [None, "10", "20"]
    assert asset_row(database).highest_kobo_id == max(r["_id"] for r in records)


def test_an_interrupted_sync_resumes_from_the_highest_id_and_stores_nothing_twice(database, world, fake_kobo,
                                                                                  client):
    records = put_records(fake_kobo, 25)

    def break_after_first_page(_n):
        fake_kobo.fail_next(client.max_retries + 1, status=503, retry_after=0)  # more than the client retries

    first = sync_asset(database, ASSET_UID, client, page_size=10, now=NOW, progress=break_after_first_page)
    assert first.status == FAILED and "unavailable" in first.error.lower()
    assert count(database, Submission) == 10
    highest = asset_row(database).highest_kobo_id
    assert highest == records[9]["_id"] and asset_row(database).last_sync_status == FAILED

    fake_kobo.requests.clear()
    second = sync_asset(database, ASSET_UID, client, page_size=10, now=NOW, catch_up_days=0)
    assert second.status == OK
    assert json.loads(fake_kobo.data_requests(ASSET_UID)[0].params["query"]) == {"_id": {"$gt": highest}}
    assert (second.incremental.stored, second.incremental.duplicates) == (15, 0)
    assert count(database, Submission) == 25 and count(database, SubmissionVersion) == 25


def test_429_retry_after_is_honoured(database, world, fake_kobo, client, waits):
    put_records(fake_kobo, 3)
    fake_kobo.fail_next(2, status=429, retry_after=7)
    result = sync_asset(database, ASSET_UID, client, now=NOW)
    assert result.status == OK and result.incremental.stored == 3
    assert waits == [7.0, 7.0]


def test_a_transient_500_is_retried_with_backoff(database, world, fake_kobo, client, waits):
    put_records(fake_kobo, 3)
    fake_kobo.fail_next(1, status=500, retry_after=None)
    result = sync_asset(database, ASSET_UID, client, now=NOW)
    assert result.status == OK and count(database, Submission) == 3
    assert len(waits) == 1 and waits[0] > 0


def test_kobo_staying_down_marks_the_sync_failed_and_keeps_the_token_out(database, world, fake_kobo, client):
    put_records(fake_kobo, 3)
    fake_kobo.fail_next(client.max_retries + 1, status=502, retry_after=None)
    result = sync_asset(database, ASSET_UID, client, now=NOW)
    row = asset_row(database)
    assert (result.status, row.last_sync_status) == (FAILED, FAILED)
    assert row.last_sync_summary["error"] and "test-token" not in row.last_sync_summary["error"]
    assert count(database, Submission) == 0


def test_catch_up_finds_a_server_edit_and_what_the_webhook_missed(app, database, world, fake_kobo, client, seed):
    maker = SubmissionMaker()
    first = put_records(fake_kobo, 3, maker)
    assert sync_asset(database, ASSET_UID, client, now=NOW).incremental.stored == 3

    later = put_records(fake_kobo, 3, maker)
    token = seed.member("kobo@example.org", "submitter")
    web = app.test_client()
    for record in later[:2]:  # the webhook delivers two of three
        assert web.post("/api/v1/kobo/submissions", json=record, headers=auth(token)).status_code == 201
    edited = make_edit(first[1], {"site/site_id": "S3"}, rng=random.Random(9))
    fake_kobo.replace_record(ASSET_UID, first[1]["_id"], edited)

    result = sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=14)
    assert (result.incremental.stored, result.incremental.duplicates) == (1, 2)
    assert (result.catch_up.updated, result.catch_up.duplicates) == (1, 2)
    current = stored(database)
    assert len(current) == 6 and current[first[1]["_id"]] == edited["meta/instanceID"]
    assert asset_row(database).last_sync_summary["catch_up"]["updated"] == 1


def test_catch_up_asks_for_the_window_by_submission_time(database, world, fake_kobo, client):
    put_records(fake_kobo, 2)
    sync_asset(database, ASSET_UID, client, now=NOW)
    fake_kobo.requests.clear()
    sync_asset(database, ASSET_UID, client, now=NOW, catch_up_days=3)
    queries = [json.loads(r.params.get("query", "{}")) for r in fake_kobo.data_requests(ASSET_UID)]
    assert {"_submission_time": {"$gte": "2026-11-07T12:00:00"}} in queries


def test_a_newly_deployed_form_version_is_read_from_the_asset_content(database, world, fake_kobo, client):
    fake_kobo.assets[ASSET_UID].deployed_version_id = "vNewDeploy2"
    records = put_records(fake_kobo, 2)
    for record in records:
        record["__version__"] = "vNewDeploy2"
    result = sync_asset(database, ASSET_UID, client, now=NOW)
    assert result.new_form_version and result.form_version == "vNewDeploy2"
    assert result.incremental.stored == 2 and count(database, QuarantinedSubmission) == 0
    with database.session() as session:
        versions = session.scalars(sa.select(KoboFormVersion.version).order_by(KoboFormVersion.id)).all()
    assert versions == [form().version, "vNewDeploy2"]
    assert not sync_asset(database, ASSET_UID, client, now=NOW).new_form_version


def test_a_known_form_version_is_not_stored_again(database, world, fake_kobo, client):
    result = sync_asset(database, ASSET_UID, client, now=NOW)
    assert result.form_version == form().version and not result.new_form_version
    assert count(database, KoboFormVersion) == 1
