"""`crisis-ct tasks expire` and `crisis-ct tasks list`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.models import AuditEvent
from crisis_ct.cli import main
from crisis_ct.tasks.models import MitigationTask
from tests.conftest import auth
from tests.tasks.test_generation_db import (ARMED_RECRUITMENT, build_world, generate, history_of, site_score,
                                            task_for)


@pytest.fixture
def world(database, seed, tmp_path):
    sites = build_world(database, seed, tmp_path)
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT), now=datetime.now(timezone.utc))
    return {"task_id": task_for(database, sites["S0"], "M05").id,
            "first": seed.member("first@op1.org", "expert", expertise=["CP"]),
            "second": seed.member("second@op1.org", "expert", expertise=["CP"])}


def _cli(app, *args):
    return app.test_cli_runner().invoke(main, list(args))


def _lapse(database, task_id):
    with database.session() as session:
        session.execute(sa.update(MitigationTask).where(MitigationTask.id == task_id)
                        .values(claim_expires_at=datetime.now(timezone.utc) - timedelta(minutes=5)))


def test_expire_releases_a_lapsed_claim_and_another_expert_can_claim(app, client, database, world):
    task_id = world["task_id"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth(world["first"])).status_code == 200
    _lapse(database, task_id)

    result = _cli(app, "tasks", "expire")
    assert result.exit_code == 0, result.output
    assert "released 1 expired claim" in result.output
    with database.session() as session:
        task = session.get(MitigationTask, task_id)
        assert (task.status, task.claimed_by_user_id, task.claim_expires_at) == ("open", None, None)
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "task.expired")) == 1
    last = history_of(database, task_id)[-1]
    assert (last.action, last.from_status, last.to_status, last.actor) == ("expired", "claimed", "open",
                                                                           "claim-expiry")

    response = client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth(world["second"]))
    assert response.status_code == 200
    assert response.get_json()["claim"]["holder"]["display_name"] == "second"


def test_expire_leaves_live_claims_alone(app, client, database, world):
    client.post(f"/api/v1/tasks/{world['task_id']}/claim", headers=auth(world["first"]))
    result = _cli(app, "tasks", "expire")
    assert "released 0 expired claim" in result.output
    with database.session() as session:
        assert session.get(MitigationTask, world["task_id"]).status == "claimed"


def test_list_prints_tasks_filtered_by_status(app, client, database, world):
    client.post(f"/api/v1/tasks/{world['task_id']}/claim", headers=auth(world["first"]))
    claimed = _cli(app, "tasks", "list", "--operation", "op1", "--status", "claimed")
    assert claimed.exit_code == 0, claimed.output
    lines = [line for line in claimed.output.splitlines() if line.startswith(str(world["task_id"]) + "\t")]
    assert len(lines) == 1 and "M05" in lines[0] and "S0" in lines[0] and "first" in lines[0]
    open_ = _cli(app, "tasks", "list", "--status", "open")
    assert "M05" not in open_.output and "M01" in open_.output


def test_list_of_an_unknown_operation_fails_with_a_message(app, world):
    result = _cli(app, "tasks", "list", "--operation", "nope")
    assert result.exit_code != 0 and "nope" in result.output
