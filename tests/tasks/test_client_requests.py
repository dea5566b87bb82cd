"""Progress notes and completions sent with a client-generated id (the /my page's offline
notes) are applied once per id: a resend gets the first answer back, on both backends, also
when the repeats arrive at the same moment."""
from __future__ import annotations

import http.client
import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.tasks.claims import expire_claims
from crisis_ct.tasks.models import AppliedClientRequest, MitigationTask, TaskHistory
from tests.conftest import auth
from tests.tasks.test_generation_db import ARMED_RECRUITMENT, build_world, generate, site_score, task_for

NOW = datetime.now(timezone.utc).replace(microsecond=0)
REPEATS = 8


@pytest.fixture
def claimed(client, database, seed, tmp_path):
    """Expert cp@op1.org holds S0's M05 task; returns (task id, token)."""
    sites = build_world(database, seed, tmp_path)
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT), now=NOW)
    task_id = task_for(database, sites["S0"], "M05").id
    token = seed.member("cp@op1.org", "expert", expertise=["CP"])
    assert client.post(f"/api/v1/tasks/{task_id}/claim", json={}, headers=auth(token)).status_code == 200
    return task_id, token


def _events(database, task_id: int, action: str) -> list[TaskHistory]:
    with database.session() as session:
        return list(session.scalars(sa.select(TaskHistory).where(TaskHistory.task_id == task_id,
                                                                 TaskHistory.action == action)))


def test_a_resent_progress_note_is_stored_once_and_answered_with_the_first_answer(client, database, claimed):
    task_id, token = claimed
    note = {"comment": "Met the camp committee <b>today</b>", "client_id": str(uuid.uuid4())}
    first = client.post(f"/api/v1/tasks/{task_id}/progress", json=note, headers=auth(token))
    assert first.status_code == 200 and "X-Client-Id-Repeat" not in first.headers
    assert first.get_json()["status"] == "in_progress"
    again = client.post(f"/api/v1/tasks/{task_id}/progress", json=note, headers=auth(token))
    assert again.status_code == 200 and again.headers["X-Client-Id-Repeat"] == "true"
    assert again.get_json() == first.get_json()
    events = _events(database, task_id, "progressed")
    assert [event.comment for event in events] == [note["comment"]]
    # Without an id every request is a new note, as before.
    client.post(f"/api/v1/tasks/{task_id}/progress", json={"comment": "again"}, headers=auth(token))
    assert len(_events(database, task_id, "progressed")) == 2


def test_a_resent_completion_answers_done_once(client, database, claimed):
    task_id, token = claimed
    client.post(f"/api/v1/tasks/{task_id}/progress", json={}, headers=auth(token))
    done = {"comment": "Handed over", "client_id": str(uuid.uuid4()).upper()}
    first = client.post(f"/api/v1/tasks/{task_id}/complete", json=done, headers=auth(token))
    assert first.status_code == 200 and first.get_json()["status"] == "done"
    # The same id in another spelling is the same id; the task is done, the repeat still succeeds.
    done["client_id"] = done["client_id"].lower()
    again = client.post(f"/api/v1/tasks/{task_id}/complete", json=done, headers=auth(token))
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert len(_events(database, task_id, "completed")) == 1


def test_an_id_used_for_another_action_or_a_bad_id_is_refused(client, claimed):
    task_id, token = claimed
    client_id = str(uuid.uuid4())
    assert client.post(f"/api/v1/tasks/{task_id}/progress", json={"client_id": client_id},
                       headers=auth(token)).status_code == 200
    reused = client.post(f"/api/v1/tasks/{task_id}/complete", json={"client_id": client_id}, headers=auth(token))
    assert reused.status_code == 409
    assert reused.get_json()["error"]["code"] == "client_id_reused"
    bad = client.post(f"/api/v1/tasks/{task_id}/progress", json={"client_id": "not-a-uuid"}, headers=auth(token))
    assert bad.status_code == 422 and "client_id" in bad.get_json()["error"]["details"]["fields"]["json"]


def test_a_note_after_the_claim_expired_is_refused_with_the_reason_and_nothing_is_kept(client, database, claimed):
    task_id, token = claimed
    with database.session() as session:
        session.get(MitigationTask, task_id).claim_expires_at = NOW - timedelta(minutes=5)
        session.commit()
    note = {"comment": "Written offline", "client_id": str(uuid.uuid4())}
    refused = client.post(f"/api/v1/tasks/{task_id}/progress", json=note, headers=auth(token))
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "claim_expired" and "expired" in error["message"]
    assert error["details"]["claim_expired_at"]
    assert _events(database, task_id, "progressed") == []
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AppliedClientRequest)) == 0
    # The expiry job ran meanwhile: still the same reason.
    with database.session() as session:
        assert expire_claims(session, now=datetime.now(timezone.utc)) == 1
        session.commit()
    refused = client.post(f"/api/v1/tasks/{task_id}/progress", json=note, headers=auth(token))
    assert refused.get_json()["error"]["code"] == "claim_expired"
    # Claimed again, the same id goes through once.
    assert client.post(f"/api/v1/tasks/{task_id}/claim", json={}, headers=auth(token)).status_code == 200
    for _ in range(2):
        assert client.post(f"/api/v1/tasks/{task_id}/progress", json=note, headers=auth(token)).status_code == 200
    assert [event.comment for event in _events(database, task_id, "progressed")] == ["Written offline"]


def _send(port: int, path: str, body: dict, token: str, barrier: threading.Barrier, results: list, index: int):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.connect()
        barrier.wait()
        connection.request("POST", path, body=json.dumps(body).encode(),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        results[index] = (response.status, json.loads(response.read()), response.getheader("X-Client-Id-Repeat"))
    finally:
        connection.close()


@pytest.mark.parametrize("action", ["progress", "complete"])
def test_simultaneous_repeats_of_one_id_apply_it_once(database, claimed, served, client, action):
    task_id, token = claimed
    if action == "complete":
        client.post(f"/api/v1/tasks/{task_id}/progress", json={}, headers=auth(token))
    body = {"comment": f"{action} sent from a phone", "client_id": str(uuid.uuid4())}
    barrier = threading.Barrier(REPEATS)
    results: list = [None] * REPEATS
    threads = [threading.Thread(target=_send, args=(served, f"/api/v1/tasks/{task_id}/{action}", body, token,
                                                    barrier, results, i)) for i in range(REPEATS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert [status for status, _, _ in results] == [200] * REPEATS
    assert sorted(repeat or "" for _, _, repeat in results) == [""] + ["true"] * (REPEATS - 1)
    assert all(answer == results[0][1] for _, answer, _ in results)
    recorded = {"progress": "progressed", "complete": "completed"}[action]
    assert [event.comment for event in _events(database, task_id, recorded)] == [body["comment"]]


def test_applied_ids_are_forgotten_after_keep_days_and_only_those(client, database, claimed):
    from crisis_ct.tasks.client_requests import KEEP_DAYS, prune_applied

    task_id, token = claimed
    for _ in range(2):
        note = {"comment": "kept", "client_id": str(uuid.uuid4())}
        assert client.post(f"/api/v1/tasks/{task_id}/progress", json=note, headers=auth(token)).status_code == 200
    with database.session() as session:
        old = session.scalars(sa.select(AppliedClientRequest)).first()
        old.applied_at = NOW - timedelta(days=KEEP_DAYS, minutes=1)
        kept = session.scalar(sa.select(AppliedClientRequest.client_id)
                              .where(AppliedClientRequest.client_id != old.client_id))
    with database.session() as session:
        assert prune_applied(session, now=NOW) == 1
    with database.session() as session:
        assert session.scalars(sa.select(AppliedClientRequest.client_id)).all() == [kept]
        assert prune_applied(session, now=NOW) == 0
