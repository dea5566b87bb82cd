"""The task API through the Flask test client, on both backends."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.models import AuditEvent
from crisis_ct.tasks.models import MitigationTask
from tests.conftest import auth
from tests.tasks.test_generation_db import (ARMED_RECRUITMENT, build_world, generate, indicator, site_score,
                                            task_for)

# Generated "now" so claims and due dates are relative to the real clock the API uses.
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def world(database, seed, tmp_path):
    sites = build_world(database, seed, tmp_path)
    # Each site: M05 (P1, CP) of its own. M01 (P2, CT, referral pathway) and M23 (P3, MHPSS) are
    # one task per district listing its sites: XZ0101 (S0, S1, S2) and XZ0102 (S3); S1 adds M09
    # (P2, LEGAL) for XZ0101. 4 + 2 + 2 + 1 = 9 tasks.
    for code in ("S0", "S2", "S3"):
        generate(database, sites[code], site_score(ARMED_RECRUITMENT), now=NOW)
    generate(database, sites["S1"], site_score(ARMED_RECRUITMENT, indicator("DOC_LACK", "many", 3)), now=NOW)
    tokens = {
        "expert": seed.member("cp@op1.org", "expert", expertise=["CP"]),
        "expert2": seed.member("cp2@op1.org", "expert", expertise=["CP", "CT"]),
        "legal": seed.member("legal@op1.org", "expert", expertise=["LEGAL"]),
        "coordinator": seed.member("coord@op1.org", "coordinator"),
        "viewer": seed.member("viewer@op1.org", "viewer"),
    }
    build_world(database, seed, tmp_path, "op2", sites=[("T0", "Other camp", "planned_camp", 0.5, 0.5, 10, 2)])
    tokens["outsider"] = seed.member("cp@op2.org", "expert", "op2", expertise=["CP"])
    return {"sites": sites, "tokens": tokens,
            "m05": {code: task_for(database, sites[code], "M05").id for code in ("S0", "S1", "S2", "S3")}}


def _post(client, world, who, task_id, action, body=None):
    return client.post(f"/api/v1/tasks/{task_id}/{action}", json=body if body is not None else {},
                       headers=auth(world["tokens"][who]))


def test_near_within_km_and_expertise_returns_only_close_tasks_nearest_first(client, world):
    # From (lon 0.82, lat 0.5): S2 at 0.8 is ~2.2 km, S1 at 0.6 ~24 km, S0 ~35 km, S3 ~75 km.
    response = client.get("/api/v1/tasks?near=0.82,0.5&within_km=40&expertise=CP",
                          headers=auth(world["tokens"]["expert"]))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["site_id"] for item in items] == ["S2", "S1", "S0"]
    assert all("CP" in item["expertise"] for item in items)
    distances = [item["distance_km"] for item in items]
    assert distances == sorted(distances) and distances[-1] <= 40


def test_near_sorts_by_distance_then_priority(client, world):
    # At S1, inside district XZ0101: S1's own task and the district's area tasks, all 0 km away.
    items = client.get("/api/v1/tasks?near=0.6,0.5&within_km=1", headers=auth(world["tokens"]["coordinator"])).get_json()["items"]
    assert [(i["site_id"] or i["pcode"], i["priority"]) for i in items] == [
        ("S1", "P1"), ("XZ0101", "P2"), ("XZ0101", "P2"), ("XZ0101", "P3")]
    assert {i["distance_km"] for i in items} == {0.0}


def test_near_finds_an_area_task_by_its_area(client, world):
    # 30 km north of S3 but inside its district XZ0102 (x 1..2): the district's tasks are there,
    # S3's own task (~33 km) is not.
    items = client.get("/api/v1/tasks?near=1.5,0.8&within_km=20", headers=auth(world["tokens"]["coordinator"])).get_json()["items"]
    assert {(i["rule_id"], i["pcode"]) for i in items} == {("M01", "XZ0102"), ("M23", "XZ0102")}
    assert [site["site_id"] for site in items[0]["sites"]] == ["S3"]


def test_list_filters_and_paging(client, world):
    headers = auth(world["tokens"]["coordinator"])
    legal = client.get("/api/v1/tasks?expertise=LEGAL", headers=headers).get_json()
    assert [i["rule_id"] for i in legal["items"]] == ["M09"]
    page = client.get("/api/v1/tasks?limit=2&offset=1", headers=headers).get_json()
    assert (page["total"], len(page["items"]), page["offset"]) == (9, 2, 1)
    # A site's tasks: its own, and the area tasks that list it.
    at_s3 = client.get("/api/v1/tasks?site_id=S3", headers=headers).get_json()["items"]
    assert sorted((i["rule_id"], i["site_id"]) for i in at_s3) == [("M01", None), ("M05", "S3"), ("M23", None)]
    assert all(i["site_id"] == "S3" or [s["site_id"] for s in i["sites"]] == ["S3"] for i in at_s3)
    assert client.get("/api/v1/tasks?priority=P2", headers=headers).get_json()["total"] == 3
    assert client.get("/api/v1/tasks?language=fr", headers=headers).get_json()["total"] == 9
    assert client.get("/api/v1/tasks?language=ar", headers=headers).get_json()["total"] == 0


def test_pcode_filter_matches_any_admin_level_of_the_site(client, world):
    items = client.get("/api/v1/tasks?pcode=XZ0102", headers=auth(world["tokens"]["coordinator"])).get_json()["items"]
    assert {i["site_id"] or i["pcode"] for i in items} == {"S3", "XZ0102"}
    # An admin-3 code finds the district tasks that list one of its sites too.
    items = client.get("/api/v1/tasks?pcode=XZ010201", headers=auth(world["tokens"]["coordinator"])).get_json()["items"]
    assert {i["site_id"] or i["pcode"] for i in items} == {"S3", "XZ0102"}


def test_an_area_task_lists_its_sites_and_can_be_claimed(client, world, database):
    with database.session() as session:
        task_id = session.scalar(sa.select(MitigationTask.id).where(MitigationTask.rule_id == "M01",
                                                                    MitigationTask.scope == "admin_area")
                                 .order_by(MitigationTask.id).limit(1))
    body = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["expert2"])).get_json()
    assert (body["scope"], body["pcode"], body["site_id"], body["sites_count"]) == ("admin_area", "XZ0101", None, 3)
    assert [s["site_id"] for s in body["sites"]] == ["S0", "S1", "S2"]
    assert body["sites"][0]["evidence"] == [{"kind": "indicator", "id": "EXP_ARMED_RECRUIT", "value": "yes"}]
    claimed = _post(client, world, "expert2", task_id, "claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["status"] == "claimed" and claimed.get_json()["sites_count"] == 3


def test_task_json_shape(client, world):
    task_id = world["m05"]["S0"]
    body = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["coordinator"])).get_json()
    assert {"id", "rule_id", "title", "description", "sector", "priority", "status", "scope", "site_id",
            "site_name", "pcode", "expertise", "due_at", "overdue", "needs_review", "claim", "evidence",
            "score_id", "assessment_date", "created_at", "updated_at", "operation", "history"} <= set(body)
    assert (body["site_id"], body["site_name"], body["operation"], body["claim"]) == ("S0", "Camp zero", "op1", None)
    assert body["title"]["fr"] and body["history"][0]["action"] == "created"


def test_claim_shows_holder_and_time_left(client, world):
    response = _post(client, world, "expert", world["m05"]["S0"], "claim")
    assert response.status_code == 200
    claim = response.get_json()["claim"]
    assert claim["holder"]["display_name"] == "cp"
    assert 23 * 3600 < claim["seconds_left"] <= 24 * 3600  # P1 claim_hours = 24


def test_second_claim_is_409_with_holder_details(client, world):
    _post(client, world, "expert", world["m05"]["S0"], "claim")
    response = _post(client, world, "expert2", world["m05"]["S0"], "claim")
    assert response.status_code == 409
    details = response.get_json()["error"]["details"]
    assert details["status"] == "claimed" and details["holder"]["display_name"] == "cp"
    assert details["expires_at"]


def test_claim_without_matching_expertise_is_refused_with_a_reason(client, world):
    response = _post(client, world, "legal", world["m05"]["S0"], "claim")
    assert response.status_code == 403
    assert "expertise" in response.get_json()["error"]["message"]


def test_coordinator_assigns_regardless_of_expertise_and_with_a_longer_expiry(client, world):
    response = _post(client, world, "coordinator", world["m05"]["S0"], "assign",
                     {"email": "legal@op1.org", "expires_hours": 24 * 10})
    assert response.status_code == 200
    claim = response.get_json()["claim"]
    assert claim["holder"]["display_name"] == "legal" and claim["seconds_left"] > 9 * 24 * 3600


def test_full_life_writes_history_and_audit_for_every_step(client, world, database):
    task_id = world["m05"]["S0"]
    steps = [("expert", "claim"), ("expert", "renew"), ("expert", "progress"), ("expert", "complete"),
             ("coordinator", "reject"), ("expert2", "claim"), ("expert2", "progress"), ("expert2", "complete"),
             ("coordinator", "verify")]
    for who, action in steps:
        response = _post(client, world, who, task_id, action, {"comment": f"{action} note"})
        assert response.status_code == 200, (action, response.get_json())
    body = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["coordinator"])).get_json()
    assert body["status"] == "verified"
    with database.session() as session:  # only evidence newer than this re-opens the rule there
        assert session.get(MitigationTask, task_id).closed_at is not None
    actions = [h["action"] for h in body["history"]]
    assert actions == ["created", "claimed", "renewed", "progressed", "completed", "rejected", "claimed",
                       "progressed", "completed", "verified"]
    assert body["history"][5] | {"at": None} == {"at": None, "actor": "coord@op1.org", "action": "rejected",
                                                  "from_status": "done", "to_status": "open",
                                                  "comment": "reject note"}
    with database.session() as session:
        audited = list(session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.target_type == "mitigation_task", AuditEvent.target_id == str(task_id)).order_by(AuditEvent.id)))
        generated = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "tasks.generated")).all()
    # People's actions are audited per task; the generator's per place, naming each task.
    assert audited == [f"task.{a}" for a in actions[1:]]
    assert [(e["task_id"], e["action"]) for event in generated for e in event.details["tasks"]
            if e["task_id"] == task_id] == [(task_id, "created")]


def test_cancel_is_for_coordinators(client, world):
    task_id = world["m05"]["S0"]
    assert _post(client, world, "expert", task_id, "cancel").status_code == 403
    response = _post(client, world, "coordinator", task_id, "cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert _post(client, world, "coordinator", task_id, "cancel").status_code == 409


@pytest.mark.parametrize("action", ["claim", "renew", "progress", "complete", "release"])
def test_a_viewer_may_not_take_expert_actions(client, world, action):
    assert _post(client, world, "viewer", world["m05"]["S0"], action).status_code == 403


@pytest.mark.parametrize("action", ["verify", "reject", "cancel"])
def test_an_expert_may_not_take_coordinator_actions(client, world, action):
    assert _post(client, world, "expert", world["m05"]["S0"], action).status_code == 403


def test_another_operations_task_is_404(client, world):
    task_id = world["m05"]["S0"]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["outsider"])).status_code == 404
    assert _post(client, world, "outsider", task_id, "claim").status_code == 404
    listed = client.get("/api/v1/tasks", headers=auth(world["tokens"]["outsider"])).get_json()
    assert listed["total"] == 0
    assert client.get("/api/v1/tasks?operation=op1", headers=auth(world["tokens"]["outsider"])).status_code == 404


def test_only_the_holder_progresses_or_releases_but_a_coordinator_may_release(client, world):
    task_id = world["m05"]["S0"]
    _post(client, world, "expert", task_id, "claim")
    assert _post(client, world, "expert2", task_id, "progress").status_code == 409
    assert _post(client, world, "expert2", task_id, "release").status_code == 409
    response = _post(client, world, "coordinator", task_id, "release", {"comment": "handover"})
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["claim"]) == ("open", None)


def test_renew_moves_the_expiry_forward(client, world, database):
    task_id = world["m05"]["S0"]
    _post(client, world, "expert", task_id, "claim")
    with database.session() as session:  # pretend the claim was taken 20 hours ago
        session.execute(sa.update(MitigationTask).where(MitigationTask.id == task_id)
                        .values(claim_expires_at=NOW + timedelta(hours=4)))
    response = _post(client, world, "expert", task_id, "renew")
    assert response.status_code == 200
    assert response.get_json()["claim"]["seconds_left"] > 23 * 3600


def test_a_lapsed_claim_is_not_shown_as_held_and_can_be_claimed(client, world, database):
    task_id = world["m05"]["S0"]
    _post(client, world, "expert", task_id, "claim")
    with database.session() as session:
        session.execute(sa.update(MitigationTask).where(MitigationTask.id == task_id)
                        .values(claim_expires_at=NOW - timedelta(minutes=1)))
    body = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["coordinator"])).get_json()
    assert (body["status"], body["claim"]) == ("open", None)
    assert _post(client, world, "expert", task_id, "renew").status_code == 409
    open_ids = [i["id"] for i in client.get("/api/v1/tasks?status=open", headers=auth(world["tokens"]["coordinator"]))
                .get_json()["items"]]
    assert task_id in open_ids
    assert _post(client, world, "expert2", task_id, "claim").status_code == 200


def test_max_active_claims(client, world, app):
    app.config["MAX_ACTIVE_CLAIMS"] = 2
    ids = [world["m05"][code] for code in ("S0", "S1", "S2")]
    assert [_post(client, world, "expert", i, "claim").status_code for i in ids] == [200, 200, 409]
    assert _post(client, world, "expert", ids[2], "claim").get_json()["error"]["code"] == "claim_limit"
    _post(client, world, "expert", ids[0], "release")
    assert _post(client, world, "expert", ids[2], "claim").status_code == 200


def test_wrong_state_is_409(client, world):
    task_id = world["m05"]["S0"]
    response = _post(client, world, "coordinator", task_id, "verify")
    assert response.status_code == 409
    assert response.get_json()["error"]["details"] == {"status": "open", "holder": None, "expires_at": None}


def test_assign_needs_an_expert_of_the_operation(client, world):
    response = _post(client, world, "coordinator", world["m05"]["S0"], "assign", {"email": "cp@op2.org"})
    assert response.status_code == 422


def test_comments_are_returned_as_typed_data_not_markup(client, world):
    task_id = world["m05"]["S0"]
    _post(client, world, "expert", task_id, "claim", {"comment": "<script>alert(1)</script>"})
    response = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["coordinator"]))
    assert response.mimetype == "application/json"
    assert response.get_json()["history"][-1]["comment"] == "<script>alert(1)</script>"


def test_assign_release_and_cancel_are_in_history_and_audit(client, world, database):
    task_id = world["m05"]["S0"]
    for who, action, body in [("coordinator", "assign", {"email": "cp@op1.org"}),
                              ("coordinator", "release", {}), ("coordinator", "cancel", {"comment": "duplicate"})]:
        assert _post(client, world, who, task_id, action, body).status_code == 200, action
    history = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["coordinator"])).get_json()["history"]
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history[1:]] == [
        ("assigned", "open", "claimed"), ("released", "claimed", "open"), ("cancelled", "open", "cancelled")]
    with database.session() as session:
        audited = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_id == str(task_id),
                                                                         AuditEvent.target_type == "mitigation_task")))
    assert {"task.assigned", "task.released", "task.cancelled"} <= audited


def test_a_viewer_sees_no_site_level_task(client, world):
    """domain.md §4.3: site-level tasks are for experts and coordinators. Holders stay hidden
    from viewers on the area tasks they do see (tests/test_projection.py)."""
    task_id = world["m05"]["S0"]
    assert _post(client, world, "expert", task_id, "claim").status_code == 200
    response = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["viewer"]))
    assert response.status_code == 403
    assert "cp@op1.org" not in response.get_data(as_text=True)
    listed = client.get("/api/v1/tasks", headers=auth(world["tokens"]["viewer"])).get_json()
    assert listed["total"] == 0 and listed["items"] == []
    as_expert = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["expert2"])).get_json()
    assert as_expert["claim"]["holder"]["display_name"] == "cp"
