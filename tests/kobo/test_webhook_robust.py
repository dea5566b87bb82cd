"""No delivery lost, no 500: concurrent duplicates answer `duplicate`; odd submissions are
kept in quarantine with a reason; only a body that is no submission at all gets a 4xx."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from crisis_ct.kobo import operations
from crisis_ct.kobo.models import QuarantinedSubmission, Submission, SubmissionVersion
from tests.conftest import auth
from tests.support.kobo_world import WEBHOOK_URL, SubmissionMaker, count, post_record


def test_a_duplicate_inserted_while_the_first_is_uncommitted_answers_duplicate(database, webhook_world):
    """The worst interleaving, made certain: both look-ups find nothing, the second insert
    meets the first's unique key once the first commits."""
    record = SubmissionMaker().make("S1")
    first_looked, first_may_commit, outcomes = threading.Event(), threading.Event(), {}

    def first():
        session = database.sessionmaker()
        try:
            outcomes["first"] = operations.receive(session, record, [webhook_world.operation_id], via="webhook",
                                                   match_distance_m=500)
            first_looked.set()
            first_may_commit.wait(10)
            session.commit()
        finally:
            session.close()

    def second():
        session = database.sessionmaker()
        try:
            outcomes["second"] = operations.receive_and_commit(session, record, [webhook_world.operation_id],
                                                               via="webhook", match_distance_m=500)
        finally:
            session.close()

    one = threading.Thread(target=first)
    one.start()
    assert first_looked.wait(10)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.5)  # the second now waits for the first (PostgreSQL: on the unique key; SQLite: the lock)
    first_may_commit.set()
    one.join(10)
    two.join(10)
    assert outcomes["first"].status == "stored"
    assert outcomes["second"].status == "duplicate"
    assert count(database, Submission) == 1 and count(database, SubmissionVersion) == 1


def test_the_same_submission_delivered_by_many_threads_at_once_is_stored_once_never_500(app, database, webhook_world):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    body = json.dumps(SubmissionMaker().make("S1")).encode()
    barrier, statuses = threading.Barrier(6), []

    def deliver():
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}{WEBHOOK_URL}", data=body, method="POST",
                                         headers={**auth(webhook_world.token), "Content-Type": "application/json"})
        barrier.wait(10)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    try:
        threads = [threading.Thread(target=deliver) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        server.shutdown()
        thread.join(10)
    assert sorted(statuses) == [200] * 5 + [201]
    assert count(database, Submission) == 1


def _quarantined(database) -> QuarantinedSubmission:
    with database.session() as session:
        return session.scalars(sa.select(QuarantinedSubmission)).one()


def test_an_instance_id_of_200_characters_is_quarantined_and_a_redelivery_finds_the_same_row(client, webhook_world, database):
    record = SubmissionMaker().make("S1")
    record["meta/instanceID"] = "uuid:" + "a" * 200
    for attempt in (1, 2):
        response = post_record(client, webhook_world.token, json.dumps(record))
        assert response.status_code == 202 and response.get_json()["reason_code"] == "instance_id_too_long"
    row = _quarantined(database)
    assert row.attempts == 2 and row.raw["meta/instanceID"] == record["meta/instanceID"]


def test_an_xform_id_string_over_64_characters_is_quarantined(client, webhook_world, database):
    record = SubmissionMaker().make("S1")
    record["_xform_id_string"] = "a" * 80
    response = post_record(client, webhook_world.token, json.dumps(record))
    assert response.status_code == 202 and response.get_json()["reason_code"] == "asset_uid_too_long"
    assert _quarantined(database).asset_uid is None


def test_nul_characters_in_values_are_quarantined_with_a_readable_copy(client, webhook_world, database):
    record = SubmissionMaker().make("S1")
    record["enumerator_code"] = "ab\u0000cd"
    record["repeat_like"] = [{"x": "\u0000"}]
    response = post_record(client, webhook_world.token, json.dumps(record))
    assert response.status_code == 202 and response.get_json()["reason_code"] == "nul_bytes"
    assert "enumerator_code" in response.get_json()["reason"]
    assert _quarantined(database).raw["enumerator_code"] == "ab\ufffdcd"


@pytest.mark.parametrize("number", ["18446744073709551616000", "1e400", "9223372036854775808"])
def test_an_id_too_large_for_the_database_is_quarantined(client, webhook_world, database, number):
    record = SubmissionMaker().make("S1")
    body = json.dumps(record).replace(f'"_id": {record["_id"]}', f'"_id": {number}')
    response = post_record(client, webhook_world.token, body)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["reason_code"] == "number_out_of_range"
    assert _quarantined(database).kobo_id is None


def test_an_integer_answer_too_large_for_the_database_is_quarantined(client, webhook_world, database):
    record = SubmissionMaker().make("S1")
    record["pop/pop_new_arrivals"] = "9" * 30
    response = post_record(client, webhook_world.token, json.dumps(record))
    assert response.status_code == 202, response.get_json()
    assert "pop_new_arrivals" in response.get_json()["reason"]
    assert count(database, Submission) == 0


def test_a_value_the_database_refuses_all_the_same_is_quarantined_as_unstorable(client, webhook_world, database,
                                                                                backend):
    """The safety net behind the checks: a form whose ki_role choice is longer than its
    column (PostgreSQL refuses it; SQLite does not check lengths and stores it)."""
    from crisis_ct.kobo.forms import add_form_version
    from crisis_ct.kobo.formspec import FormSpec
    from crisis_ct.kobo.models import KoboAsset
    from tests.support.kobo_world import form

    long_role = "a_very_long_key_informant_role_name_x"  # 37 characters, the column holds 32
    content = form().to_asset_content()
    content["choices"].append({"list_name": "ki_role", "name": long_role, "label": ["Long", "Long"]})
    with database.session() as session:
        add_form_version(session, session.scalar(sa.select(KoboAsset)),
                         FormSpec.from_asset_content(content, version="vLongRole"), version="vLongRole",
                         content=content)
    record = SubmissionMaker().make("S1", answers={"ki_role": long_role})
    record["__version__"] = "vLongRole"
    response = post_record(client, webhook_world.token, record)
    if backend == "postgis":
        assert response.status_code == 202 and response.get_json()["reason_code"] == "unstorable"
        assert _quarantined(database).raw["meta/instanceID"] == record["meta/instanceID"]
    else:
        assert response.status_code == 201
