"""/my through the test client, on both backends: who may open it, its data document (held
tasks with their expiry, open tasks that fit, site facts, the referral contacts), notes
sent from the page applied once per id, the service worker and the page's weight."""
from __future__ import annotations

import json
import re
import uuid

import sqlalchemy as sa

from crisis_ct.accounts.principal import Principal
from crisis_ct.referral.contacts import MAX_PROVIDERS_PER_TASK, task_contacts
from crisis_ct.referral.places import rule_service_types
from crisis_ct.tasks.models import MitigationTask, TaskHistory
from crisis_ct.web.my_page import SHELL_ASSETS
from crisis_ct.web.static_assets import STATIC_DIR
from tests.conftest import auth
from tests.referral.conftest import CASE_MANAGER, NEAR_CLINIC, OTHER_PROVINCE, add_providers
from tests.web.conftest import ALL_EXPERTISE, post_action, site_task_id

PAGE_BUDGET_BYTES = 150 * 1024


def _data(client) -> dict:
    response = client.get("/my/data.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_page_is_for_experts_and_above(client, signed_in):
    assert client.get("/my").headers["Location"].startswith("/login?next=/my")
    assert signed_in("viewer@example.org").get("/my").status_code == 403
    assert signed_in("viewer@example.org").get("/my/data.json").status_code == 403
    for email in ("a@example.org", "coord@example.org"):
        assert signed_in(email).get("/my").status_code == 200
    page = signed_in("a@example.org").get("/my").get_data(as_text=True)
    assert 'rel="manifest"' in page and "/my/sw.js" in page
    strings = json.loads(re.search(r'<script type="application/json" id="my-strings">(.*?)</script>', page,
                                   re.S).group(1))
    assert strings["needs_network"] == "Claim and renew need the network."


def test_the_data_lists_my_claims_with_their_expiry_and_open_tasks_that_fit(signed_in, database):
    expert = signed_in("a@example.org")
    task_id = site_task_id(database)
    post_action(expert, task_id, "claim")
    data = _data(expert)
    (held,) = data["held"]
    assert held["id"] == task_id and held["claim"]["seconds_left"] > 0 and held["claim"]["expires_at"]
    assert data["nearby"] and all(item["status"] == "open" for item in data["nearby"])
    assert task_id not in [item["id"] for item in data["nearby"]]
    assert f"{held['operation']}:S1" in data["sites"]
    facts = data["sites"][f"{held['operation']}:S1"]
    assert facts["phase"] >= 1 and set(facts["domain_phases"]) <= set("VRESC")
    assert "indicators" not in facts and "explanation" not in facts
    assert all(entry["providers"] == [] for entry in data["referral_contacts"])  # an empty directory
    assert data["csrf_token"]
    # Another expert sees the claimed task neither as theirs nor as open.
    other = _data(signed_in("b@example.org"))
    assert other["held"] == [] and task_id not in [item["id"] for item in other["nearby"]]


def test_open_tasks_follow_expertise_and_distance(signed_in, seed, app, database):
    seed.member("legal@example.org", "expert", "op1", expertise=("LEGAL",))
    legal = _data(signed_in("legal@example.org"))
    assert all("LEGAL" in item["expertise"] for item in legal["nearby"])
    seed.member("none@example.org", "expert", "op1", expertise=())
    assert _data(signed_in("none@example.org"))["nearby"] == []
    # Near S2 (lon 1.5, lat 1.5): S2's tasks come before S1's (lon 0.5, lat 0.5), distances rising.
    near = signed_in("a@example.org").get("/my/data.json?near=1.5,1.5&within_km=500").get_json()["nearby"]
    distances = [item["distance_km"] for item in near]
    assert distances == sorted(distances)
    assert signed_in("a@example.org").get("/my/data.json?near=500,1").status_code == 422


def test_the_api_gives_the_same_document_to_a_token(client, seed, scored):
    token = seed.member("c@example.org", "expert", "op1", expertise=ALL_EXPERTISE)
    response = client.get("/api/v1/my", headers=auth(token))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"generated_at", "user", "near", "held", "nearby", "sites", "referral_contacts"}
    viewer = seed.member("v2@example.org", "viewer", "op1")
    assert client.get("/api/v1/my", headers=auth(viewer)).status_code == 403


CONTACT_FIELDS = {"organisation", "service_types", "service_point_name", "distance_km", "languages",
                  "opening_hours", "focal_point_role", "office_phone", "office_email", "referral_requirements",
                  "last_verified_on"}
PROTECTION = {"child_protection", "ct_case_management"}


def test_each_task_lists_the_providers_covering_its_place_for_the_services_its_rule_needs(signed_in, database):
    with database.session() as session:
        operation_id = session.scalar(sa.select(MitigationTask.operation_id).limit(1))
    add_providers(database, operation_id, CASE_MANAGER, NEAR_CLINIC, OTHER_PROVINCE)
    expert = signed_in("a@example.org")
    task_id = site_task_id(database)
    post_action(expert, task_id, "claim")
    data = _data(expert)
    tasks = {task["id"]: task for task in [*data["held"], *data["nearby"]]}
    contacts = {entry["task_id"]: entry["providers"] for entry in data["referral_contacts"]}
    # One entry per task shown whose rule needs a service, and only those.
    assert set(contacts) == {task_id for task_id, task in tasks.items() if rule_service_types(task["rule_id"])}
    needing = [task_id for task_id, task in tasks.items()
               if task["site_id"] == "S1" and PROTECTION & set(rule_service_types(task["rule_id"]))]
    assert needing, "the scored world has a task at S1 needing child protection or CT case management"
    for needing_id in needing:
        providers = contacts[needing_id]
        organisations = [provider["organisation"] for provider in providers]
        # Covering S1 (province XZ01, district XZ0101), never the other province's; nearest first.
        assert "Alliance CT" in organisations and "Far Away" not in organisations
        assert all(set(provider) == CONTACT_FIELDS for provider in providers)  # institutional fields only
        distances = [provider["distance_km"] for provider in providers if provider["distance_km"] is not None]
        assert distances == sorted(distances) and len(providers) <= MAX_PROVIDERS_PER_TASK
        wanted = set(rule_service_types(tasks[needing_id]["rule_id"]))
        assert all({kind["code"] for kind in provider["service_types"]} <= wanted for provider in providers)
    alliance = next(provider for provider in contacts[needing[0]] if provider["organisation"] == "Alliance CT")
    assert alliance["office_phone"] == "+999 555 0101" and alliance["office_email"] == "ct@alliance.example.org"
    assert alliance["focal_point_role"] == "CT focal point" and alliance["languages"] == ["fr"]
    assert alliance["service_point_name"] == "Bureau Alpha" and alliance["distance_km"] > 0
    labels = {kind["code"]: kind["label"] for kind in alliance["service_types"]}
    assert all(label["en"] and label["fr"] for label in labels.values())
    with database.session() as session:
        viewer = Principal(user_id=0, email="v@example.org", display_name="V", roles={operation_id: "viewer"})
        expert_principal = Principal(user_id=0, email="e@example.org", display_name="E",
                                     roles={operation_id: "expert"})
        shown = [tasks[needing_id] for needing_id in needing]
        # Whoever may not read the directory in the task's operation gets no contacts at all.
        assert task_contacts(session, viewer, shown) == []
        assert [entry["task_id"] for entry in task_contacts(session, expert_principal, shown)] == needing


def test_a_note_from_the_page_is_applied_once_and_needs_the_csrf_header(signed_in, database):
    expert = signed_in("a@example.org")
    task_id = site_task_id(database)
    post_action(expert, task_id, "claim")
    token = _data(expert)["csrf_token"]
    note = {"client_id": str(uuid.uuid4()), "comment": "<img src=x onerror=alert(1)> visited the site"}
    assert expert.post(f"/my/tasks/{task_id}/progress", json=note).status_code == 400  # no CSRF token
    headers = {"X-CSRFToken": token}
    first = expert.post(f"/my/tasks/{task_id}/progress", json=note, headers=headers)
    again = expert.post(f"/my/tasks/{task_id}/progress", json=note, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["X-Client-Id-Repeat"] == "true" and again.get_json() == first.get_json()
    with database.session() as session:
        comments = session.scalars(sa.select(TaskHistory.comment).where(
            TaskHistory.task_id == task_id, TaskHistory.action == "progressed")).all()
    assert comments == [note["comment"]]
    # Refusals answer JSON, not the HTML error page: the page shows their message.
    other = signed_in("b@example.org")
    refused = other.post(f"/my/tasks/{task_id}/progress", json={"client_id": str(uuid.uuid4())},
                         headers={"X-CSRFToken": _data(other)["csrf_token"]})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_holder"
    assert expert.post(f"/my/tasks/{task_id}/claim", json={}, headers=headers).status_code == 404


def test_the_service_worker_keeps_the_shell_from_the_package(signed_in):
    response = signed_in("a@example.org").get("/my/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/my"
    source = response.get_data(as_text=True)
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", source).group(1))
    assert shell[0] == "/my" and all(url.startswith("/assets/") for url in shell[1:])
    assert "http" not in "".join(shell)  # nothing from another host


def test_the_page_before_data_weighs_under_150_kb(signed_in):
    expert = signed_in("a@example.org")
    html = expert.get("/my").get_data()
    assets = sum((STATIC_DIR / name).stat().st_size for name in SHELL_ASSETS)
    worker = len(expert.get("/my/sw.js").get_data())
    total = len(html) + assets + worker
    print(f"/my before data: {total} bytes uncompressed (HTML {len(html)}, files {assets}, worker {worker})")
    assert total < PAGE_BUDGET_BYTES
