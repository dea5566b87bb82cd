"""50 experts claim one task at the same moment over real HTTP against a served app: the
database lets exactly one win, on SQLite+SpatiaLite and on PostGIS."""
from __future__ import annotations

import http.client
import json
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from crisis_ct.tasks.models import MitigationTask, TaskHistory
from tests.tasks.test_generation_db import ARMED_RECRUITMENT, build_world, generate, site_score, task_for

EXPERTS = 50


def _claim(port: int, task_id: int, token: str, barrier: threading.Barrier, results: list, index: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.connect()  # connect first so the barrier releases requests, not handshakes
        barrier.wait()
        connection.request("POST", f"/api/v1/tasks/{task_id}/claim", body=b"{}",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        results[index] = (response.status, json.loads(response.read()))
    finally:
        connection.close()


def test_fifty_simultaneous_claims_exactly_one_wins(database, seed, tmp_path, served):
    sites = build_world(database, seed, tmp_path)
    from datetime import datetime, timezone
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT), now=datetime.now(timezone.utc))
    task_id = task_for(database, sites["S0"], "M05").id
    tokens = [seed.member(f"expert{i}@op1.org", "expert", expertise=["CP"]) for i in range(EXPERTS)]

    barrier = threading.Barrier(EXPERTS)
    results: list = [None] * EXPERTS
    threads = [threading.Thread(target=_claim, args=(served, task_id, token, barrier, results, i))
               for i, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({200: 1, 409: EXPERTS - 1})
    (winner,) = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status == 409]
    assert all(body["error"]["details"]["holder"]["id"] == winner["claim"]["holder"]["id"] for body in losers)
    with database.session() as session:
        task = session.get(MitigationTask, task_id)
        assert task.status == "claimed" and task.claimed_by_user_id == winner["claim"]["holder"]["id"]
        claims = session.scalar(sa.select(sa.func.count()).select_from(TaskHistory)
                                .where(TaskHistory.task_id == task_id, TaskHistory.action == "claimed"))
        assert claims == 1
