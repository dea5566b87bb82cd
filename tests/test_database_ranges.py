"""Numbers beyond what the database holds, in paths and query strings, are a 404 or a 422,
never a 500 (issue 13, item 8): PostgreSQL refuses them as int4/int8 out of range and
SQLite as too large for its 64-bit integers."""
from __future__ import annotations

import pytest

from crisis_ct.schemas import DB_INT_MAX
from tests.conftest import auth
from tests.web.conftest import sign_in

BEYOND_INT4 = DB_INT_MAX + 1
BEYOND_INT8 = 2**63


@pytest.fixture
def tokens(seed):
    seed.operation("op1")
    return {"coordinator": seed.member("coord@example.org", "coordinator", "op1"),
            "expert": seed.member("expert@example.org", "expert", "op1")}


@pytest.mark.parametrize("number", [BEYOND_INT4, BEYOND_INT8, 10**30])
@pytest.mark.parametrize("method, path, role", [
    ("GET", "/api/v1/tasks/{n}", "coordinator"),
    ("POST", "/api/v1/tasks/{n}/claim", "expert"),
    ("POST", "/api/v1/tasks/{n}/cancel", "coordinator"),
    ("POST", "/api/v1/kobo/quarantine/{n}/replay", "coordinator"),
])
def test_an_id_beyond_the_database_range_is_not_found(client, tokens, method, path, role, number):
    response = client.open(path.format(n=number), method=method, headers=auth(tokens[role]))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_largest_id_the_database_holds_is_looked_up(client, tokens):
    response = client.get(f"/api/v1/tasks/{DB_INT_MAX}", headers=auth(tokens["coordinator"]))
    assert response.status_code == 404
    assert "No task" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("query", [f"offset={BEYOND_INT8}", f"offset={BEYOND_INT4}", f"limit={BEYOND_INT8}",
                                   "offset=-1"])
@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/kobo/submissions", "/api/v1/kobo/quarantine",
                                  "/api/v1/kobo/assets"])
def test_paging_beyond_the_database_range_is_invalid(client, tokens, path, query):
    response = client.get(f"{path}?{query}", headers=auth(tokens["coordinator"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["details"]["fields"]


def test_the_spec_states_the_bounds(client, tokens):
    spec = client.get("/api/v1/openapi.json", headers=auth(tokens["coordinator"])).get_json()
    task_id = next(p for p in spec["paths"]["/api/v1/tasks/{task_id}"]["parameters"] if p["name"] == "task_id")
    assert task_id["schema"]["maximum"] == DB_INT_MAX
    offset = next(p for p in spec["paths"]["/api/v1/tasks"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == DB_INT_MAX


def test_task_pages_beyond_the_range(client, tokens):
    sign_in(client, "coord@example.org")
    assert client.get(f"/tasks/{BEYOND_INT8}").status_code == 404
    assert client.get(f"/tasks/{BEYOND_INT4}/claim").status_code == 404
    assert client.get(f"/tasks?status=open&page={BEYOND_INT8}").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/sites/%00/risk", "/api/v1/admin-areas/%00/risk", "/api/v1/sites?pcode=%00",
                                  "/api/v1/tasks?site_id=%00", "/api/v1/tasks?priority=a%00b",
                                  "/api/v1/kobo/submissions?site_id=%00"])
def test_a_nul_character_in_the_url_is_bad_input(client, tokens, path):
    """PostgreSQL text cannot hold NUL: sent to a query it failed with a 500."""
    response = client.get(path, headers=auth(tokens["coordinator"]))
    assert response.status_code == 400
    assert "NUL" in response.get_json()["error"]["message"]


# Not the Kobo webhook: it keeps such a submission in quarantine with a readable copy
# (tests/kobo/test_webhook_robust.py), since Kobo never re-sends what we refuse.
@pytest.mark.parametrize("path, body", [
    ("/api/v1/tasks/1/assign", {"email": "a\u0000@example.org"}),
    ("/api/v1/tasks/1/cancel", {"comment": "\u0000"}),
])
def test_a_nul_character_in_a_json_body_is_bad_input(client, tokens, path, body):
    response = client.post(path, json=body, headers=auth(tokens["coordinator"]))
    assert response.status_code == 400


def test_a_nul_character_in_a_form_is_bad_input(client, tokens):
    page = client.post("/login", data={"email": "coord\x00@example.org", "password": "x"})
    assert page.status_code == 400
    assert page.mimetype == "text/html"
