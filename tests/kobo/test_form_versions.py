"""Real Kobo form versions: `__version__` is kpi's version uid, new after every content
change. Connected projects fetch a new version inside the webhook request; projects
without a server match it to a registered version; neither needs a manual step."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.kobo.access import KoboAccess
from crisis_ct.kobo.auto_replay import replay_resolved
from crisis_ct.kobo.forms import add_form_version
from crisis_ct.kobo.formspec import FormSpec
from crisis_ct.kobo.models import KoboAsset, KoboFormVersion, QuarantinedSubmission, Submission
from crisis_ct.kobo.secrets import token_cipher
from crisis_ct.timeutil import utcnow
from tests.conftest import auth
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, count, form, post_record


@pytest.fixture
def connected(webhook_world, database, fake_kobo, monkeypatch):
    """The webhook_world's project deployed on the fake Kobo and connected to it (token in the environment)."""
    monkeypatch.setenv("KOBO_TEST_TOKEN", "test-token")
    fake_kobo.add_asset(ASSET_UID, content=form().to_asset_content())
    first = fake_kobo.deploy(ASSET_UID)
    with database.session() as session:
        asset = session.scalar(sa.select(KoboAsset))
        asset.server_url, asset.token_env = fake_kobo.base_url, "KOBO_TEST_TOKEN"
        add_form_version(session, asset, FormSpec.from_asset_content(fake_kobo.assets[ASSET_UID].content,
                                                                      version=first),
                         version=first, content=fake_kobo.assets[ASSET_UID].content)
    return first


def relabelled(content: dict) -> dict:
    """The same form with one label fixed: kpi gives it a new version uid."""
    changed = copy.deepcopy(content)
    question = next(row for row in changed["survey"] if row.get("name") == "pop_uasc")
    question["label"] = ["Unaccompanied or separated children?" if label else label for label in question["label"]]
    return changed


def test_the_fake_server_makes_a_new_kpi_uid_only_when_the_content_changes(fake_kobo):
    fake_kobo.add_asset("aX", content=form().to_asset_content())
    first = fake_kobo.deploy("aX")
    assert fake_kobo.deploy("aX") == first
    second = fake_kobo.deploy("aX", relabelled(fake_kobo.assets["aX"].content))
    assert second != first and second.startswith("v") and len(second) == 22


def test_after_a_redeploy_with_a_label_fix_the_next_submissions_are_stored_with_no_manual_step(
        client, webhook_world, database, connected, fake_kobo):
    new = fake_kobo.deploy(ASSET_UID, relabelled(fake_kobo.assets[ASSET_UID].content))
    maker = SubmissionMaker()
    first, second = maker.make("S1"), maker.make("S2")
    first["__version__"] = second["__version__"] = new
    assert post_record(client, webhook_world.token, first).status_code == 201
    assert post_record(client, webhook_world.token, second).status_code == 201
    assert count(database, Submission) == 2 and count(database, QuarantinedSubmission) == 0
    assert len(fake_kobo.version_requests(ASSET_UID)) == 1  # fetched once, then known
    with database.session() as session:
        versions = session.scalars(sa.select(KoboFormVersion.version).order_by(KoboFormVersion.id)).all()
    assert versions[-1] == new


def test_the_versions_list_is_paged_newest_first(fake_kobo):
    fake_kobo.add_asset("aX", content=form().to_asset_content())
    first = fake_kobo.deploy("aX")
    second = fake_kobo.deploy("aX", relabelled(fake_kobo.assets["aX"].content))
    from crisis_ct.kobo.client import KoboClient

    page = KoboClient(fake_kobo.base_url, "test-token")._get_json(
        f"{fake_kobo.base_url}/api/v2/assets/aX/versions/", {"limit": 1})
    assert page["count"] == 2 and [v["uid"] for v in page["results"]] == [second] and page["next"]
    assert KoboClient(fake_kobo.base_url, "test-token").get_version("aX", first)["content"]["survey"]


def test_a_version_kobo_is_too_slow_to_give_waits_as_version_pending_then_the_worker_stores_it(
        app, client, webhook_world, database, connected, fake_kobo):
    app.config["KOBO_VERSION_FETCH_TIMEOUT_S"] = 0.3
    fake_kobo.version_delay_s = 1.5
    new = fake_kobo.deploy(ASSET_UID, relabelled(fake_kobo.assets[ASSET_UID].content))
    record = SubmissionMaker().make("S1")
    record["__version__"] = new
    response = post_record(client, webhook_world.token, record)
    assert response.status_code == 202 and response.get_json()["reason_code"] == "version_pending"
    listed = client.get("/api/v1/kobo/quarantine", headers=auth(webhook_world.coordinator)).get_json()["items"]
    assert listed[0]["reason_code"] == "version_pending" and listed[0]["attempts"] == 1
    assert listed[0]["last_attempt_at"] and listed[0]["details"]["version"] == new

    fake_kobo.version_delay_s = 0
    access = KoboAccess(lambda: token_cipher(secret_key="test-secret"), timeout_s=5)
    with database.session() as session:
        assert replay_resolved(session, utcnow(), access=access) == 0  # too soon after the last attempt
    with database.session() as session:
        assert replay_resolved(session, utcnow() + timedelta(minutes=5), access=access) == 1
    assert count(database, Submission) == 1
    with database.session() as session:
        assert session.scalar(sa.select(QuarantinedSubmission.status)) == "replayed"


def test_a_webhook_only_project_stores_a_new_uid_whose_answers_fit_a_registered_version(client, webhook_world, database):
    maker = SubmissionMaker()
    record = maker.make("S1")
    record["__version__"] = "vNewUidFromARedeploy12"
    response = post_record(client, webhook_world.token, record)
    assert response.status_code == 201, response.get_json()
    with database.session() as session:
        row = session.scalar(sa.select(KoboFormVersion).where(KoboFormVersion.version == "vNewUidFromARedeploy12"))
    assert row.matched_to == form().version  # remembered: seen, matched to the registered version
    again = maker.make("S2")
    again["__version__"] = "vNewUidFromARedeploy12"
    assert post_record(client, webhook_world.token, again).status_code == 201
    assert count(database, Submission) == 2


def test_a_webhook_only_project_quarantines_a_new_uid_whose_answers_do_not_fit_naming_them(client, webhook_world, database):
    record = SubmissionMaker().make("S1")
    record["__version__"] = "vAnotherUidFromKobo123"
    record["pop/pop_brand_new_question"] = "3"
    record["pop/pop_uasc"] = "a_new_choice"
    body = post_record(client, webhook_world.token, record).get_json()
    assert body["status"] == "quarantined" and body["reason_code"] == "unknown_form_version"
    assert "pop/pop_brand_new_question" in body["reason"] and "pop_uasc: a_new_choice" in body["reason"]
    assert count(database, Submission) == 0
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(KoboFormVersion)
                              .where(KoboFormVersion.version == "vAnotherUidFromKobo123")) == 0


def test_a_version_registered_later_lets_the_worker_store_the_quarantined_submission(client, webhook_world, database):
    record = SubmissionMaker().make("S1")
    record["__version__"] = "vAnotherUidFromKobo123"
    record["pop/pop_brand_new_question"] = "3"
    assert post_record(client, webhook_world.token, record).status_code == 202
    content = form().to_asset_content()
    content["survey"].insert(1, {"type": "integer", "name": "pop_brand_new_question",
                                 "$xpath": "pop/pop_brand_new_question", "$autoname": "pop_brand_new_question"})
    with database.session() as session:
        asset = session.scalar(sa.select(KoboAsset))
        add_form_version(session, asset, FormSpec.from_asset_content(content, version="vAnotherUidFromKobo123"),
                         version="vAnotherUidFromKobo123", content=content)
    with database.session() as session:
        assert replay_resolved(session, utcnow()) == 1
    assert count(database, Submission) == 1


def test_registering_the_same_version_twice_at_once_keeps_one_row(database, webhook_world):
    """Two processes meet the same new version: the second insert waits for the first
    (PostgreSQL: on the unique key; SQLite: the write lock) and then does nothing."""
    import threading

    from crisis_ct.kobo.forms import register_version

    first_inserted, first_may_commit, errors = threading.Event(), threading.Event(), []

    def register(wait: bool):
        session = database.sessionmaker()
        try:
            register_version(session, webhook_world.asset_id, "vSame", {"survey": []})
            if wait:
                first_inserted.set()
                first_may_commit.wait(10)
            session.commit()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
        finally:
            session.close()

    one = threading.Thread(target=register, args=(True,))
    one.start()
    assert first_inserted.wait(10)
    two = threading.Thread(target=register, args=(False,))
    two.start()
    two.join(0.5)
    first_may_commit.set()
    one.join(10)
    two.join(10)
    assert errors == []
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(KoboFormVersion)
                              .where(KoboFormVersion.version == "vSame")) == 1


def test_the_pull_sync_fetches_the_older_versions_its_records_name(webhook_world, database, fake_kobo, monkeypatch):
    """Submissions filled in before the last redeploy name a version the sync did not
    register (it registers the deployed one): it fetches them, nothing waits in quarantine."""
    from crisis_ct.kobo.client import KoboClient
    from crisis_ct.kobo.sync import sync_asset

    current = form().to_asset_content()
    earlier = copy.deepcopy(current)  # had a question dropped since: only its own version knows it
    earlier["survey"].insert(1, {"type": "integer", "name": "pop_old_question", "$xpath": "pop/pop_old_question",
                                 "$autoname": "pop_old_question"})
    fake_kobo.add_asset(ASSET_UID, content=earlier)
    old = fake_kobo.deploy(ASSET_UID)
    maker = SubmissionMaker()
    records = [maker.make("S1"), maker.make("S2")]
    for record in records:
        record["__version__"], record["pop/pop_old_question"] = old, "4"
    fake_kobo.add_records(ASSET_UID, records)
    new = fake_kobo.deploy(ASSET_UID, relabelled(current))
    with database.session() as session:
        session.scalar(sa.select(KoboAsset)).server_url = fake_kobo.base_url
    result = sync_asset(database, ASSET_UID, KoboClient(fake_kobo.base_url, "test-token"), catch_up_days=0)
    assert result.status == "ok" and result.incremental.stored == 2, result.line()
    with database.session() as session:
        versions = set(session.scalars(sa.select(KoboFormVersion.version)))
    assert {old, new} <= versions and count(database, QuarantinedSubmission) == 0
