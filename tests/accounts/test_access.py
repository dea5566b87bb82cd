import pytest

from tests.conftest import auth


def _api_routes(app):
    return sorted({(rule.rule, method) for rule in app.url_map.iter_rules()
                   for method in rule.methods - {"HEAD", "OPTIONS"}
                   if rule.rule.startswith("/api/v1")})


def _concrete(path: str) -> str:
    import re
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "1", path)


def test_every_api_route_needs_a_token(app, client):
    routes = _api_routes(app)
    assert routes, "no API routes registered"
    for path, method in routes:
        response = client.open(_concrete(path), method=method)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.get_json()["error"]["code"] == "unauthenticated"


def test_a_revoked_or_wrong_token_is_401(client, seed, database):
    from crisis_ct.accounts.audit import Actor
    from crisis_ct.accounts.operations import revoke_tokens

    seed.operation("op1")
    token = seed.member("v@example.org", "viewer")
    assert client.get("/api/v1/sites", headers=auth(token)).status_code == 200
    assert client.get("/api/v1/sites", headers=auth(token + "x")).status_code == 401
    with database.session() as session:
        revoke_tokens(session, Actor.system("test"), email="v@example.org")
    assert client.get("/api/v1/sites", headers=auth(token)).status_code == 401


def test_a_submitter_token_cannot_read_sites(client, seed):
    seed.operation("op1")
    token = seed.member("kobo@example.org", "submitter")
    response = client.get("/api/v1/sites", headers=auth(token))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_token_changes_are_audited(seed, database):
    import sqlalchemy as sa
    from crisis_ct.accounts.models import AuditEvent

    seed.operation("op1")
    seed.member("c@example.org", "coordinator")
    with database.session() as session:
        actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["operation.created", "user.added", "token.created"]


def test_only_a_hash_of_the_token_is_stored(seed, database):
    import sqlalchemy as sa
    from crisis_ct.accounts.models import ApiToken

    seed.operation("op1")
    token = seed.member("c@example.org", "coordinator")
    with database.session() as session:
        stored = session.scalars(sa.select(ApiToken.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


def test_healthz_needs_no_auth_and_reports_the_schema(client):
    body = client.get("/healthz").get_json()
    # No worker runs in this test: reachable, but degraded (tests/jobs/test_runner.py covers "ok").
    assert body["status"] == "degraded" and body["problems"] == ["no worker heartbeat"]
    assert body["schema_revision"]
    assert body["version"]


def test_openapi_document_lists_the_routes(client, seed):
    seed.operation("op1")
    spec = client.get("/api/v1/openapi.json", headers=auth(seed.member("v@example.org", "viewer"))).get_json()
    assert "/api/v1/sites" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_unknown_route_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


def test_a_browser_session_cannot_write_through_the_api(app, client, seed):
    seed.operation("op1")
    seed.member("c@example.org", "coordinator")
    with client.session_transaction() as browser:
        from crisis_ct.accounts.auth import SESSION_ID_KEY
        from crisis_ct.accounts.operations import find_user
        from crisis_ct.accounts.web_sessions import start_session
        from crisis_ct.timeutil import utcnow
        from crisis_ct.web_db import database
        with app.app_context(), database().session() as session:
            browser[SESSION_ID_KEY] = start_session(session, find_user(session, "c@example.org").id, now=utcnow())
    assert client.get("/api/v1/sites").status_code == 200
    response = client.post("/api/v1/kobo/quarantine/1/replay")
    assert response.status_code == 401


def test_a_token_made_for_one_operation_acts_only_there(client, seed, database):
    from crisis_ct.accounts.audit import Actor
    from crisis_ct.accounts.operations import create_token

    seed.operation("op1")
    seed.operation("op2")
    seed.member("e@example.org", "expert", "op1")
    seed.member("e@example.org", "expert", "op2")
    with database.session() as session:
        _, token = create_token(session, Actor.system("test"), "e@example.org", operation_code="op1")
    assert client.get("/api/v1/sites?operation=op1", headers=auth(token)).status_code == 200
    assert client.get("/api/v1/sites?operation=op2", headers=auth(token)).status_code == 404
