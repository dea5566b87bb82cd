"""The one-statement claim (claims.claim_open_task) that serves most claims: what it answers
and writes must be what the full path (claims.claim) answers and writes, it must decline
whatever the full path has to explain, and it must keep the claim limit under parallel
claims of one expert. On both backends."""
from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import AuditEvent, User
from crisis_ct.geography.models import Operation
from crisis_ct.tasks import claims, states
from crisis_ct.tasks.claims import Acting, ClaimTerms
from crisis_ct.tasks.models import MitigationTask, TaskHistory
from crisis_ct.timeutil import utcnow
from tests.conftest import auth
from tests.tasks.test_api_tasks import world  # noqa: F401  (fixture)

TERMS = ClaimTerms({"P1": 24, "P2": 48}, 168)


def _post(client, token: str, task_id: int, action: str = "claim", body: dict | None = None):
    return client.post(f"/api/v1/tasks/{task_id}/{action}", json=body or {}, headers=auth(token))


def _user(database, email: str) -> User:
    with database.session() as session:
        return session.scalar(sa.select(User).where(User.email == email))


def _acting(user: User) -> Acting:
    return Acting(Actor(user.id, user.email), "expert", tuple(user.expertise))


def _trail(database, task_id: int) -> tuple[list[dict], list[dict]]:
    """The task's claim history and audit rows, without what differs from task to task."""
    with database.session() as session:
        history = [{"actor_user_id": row.actor_user_id, "actor": row.actor, "action": row.action,
                    "from_status": row.from_status, "to_status": row.to_status, "comment": row.comment,
                    "details": row.details}
                   for row in session.scalars(sa.select(TaskHistory).where(
                       TaskHistory.task_id == task_id, TaskHistory.action == "claimed"))]
        audit = [{"actor_user_id": row.actor_user_id, "actor": row.actor, "operation_id": row.operation_id,
                  "action": row.action, "target_type": row.target_type, "details": row.details}
                 for row in session.scalars(sa.select(AuditEvent).where(
                     AuditEvent.target_id == str(task_id), AuditEvent.action == "task.claimed"))]
    return history, audit


def _claim_fields(database, task_id: int) -> tuple:
    with database.session() as session:
        task = session.get(MitigationTask, task_id)
        return task.status, task.claimed_by_user_id, task.claim_expires_at


def test_a_claim_answers_what_reading_the_task_shows(client, world):  # noqa: F811
    task_id = world["m05"]["S0"]
    claimed = _post(client, world["tokens"]["expert"], task_id).get_json()
    shown = client.get(f"/api/v1/tasks/{task_id}", headers=auth(world["tokens"]["expert"])).get_json()
    shown.pop("history")
    for body in (claimed, shown):
        assert body["claim"] is not None
        body["claim"].pop("seconds_left")  # read a moment later
    assert claimed == shown


@pytest.mark.parametrize("comment", [None, "  checked with the camp manager  "])
def test_the_one_statement_claim_writes_what_the_full_path_writes(database, world, comment):  # noqa: F811
    user = _user(database, "cp2@op1.org")
    fast_id, full_id = world["m05"]["S0"], world["m05"]["S1"]
    now = utcnow()
    with database.session() as session:
        row = claims.claim_open_task(session, fast_id, _acting(user), operation_ids=[_operation_id(database, "op1")], now=now, terms=TERMS,
                                     max_active=5, comment=comment)
        assert row is not None
        task = session.get(MitigationTask, full_id)
        claims.claim(session, task, _acting(user), now=now, hours=TERMS.hours(task.priority), max_active=5,
                     comment=comment)
    fast, full = _trail(database, fast_id), _trail(database, full_id)
    assert fast == full
    history, audit = fast
    expires = (now + timedelta(hours=24)).isoformat()  # M05 is P1
    assert history[0]["details"] == {"expires_at": expires}
    assert audit[0]["details"] == {"rule_id": "M05", "from_status": "open", "to_status": "claimed",
                                   "expires_at": expires, **({"comment": comment.strip()} if comment else {})}
    assert _claim_fields(database, fast_id) == ("claimed", user.id, now + timedelta(hours=24))


def _set_task(database, task_id: int, **values) -> None:
    with database.session() as session:
        session.execute(sa.update(MitigationTask).where(MitigationTask.id == task_id).values(**values))


@pytest.mark.parametrize("case", ["no_shared_expertise", "tag_differs_in_case", "other_operation", "held",
                                  "lapsed", "limit_reached", "unknown_task"])
def test_the_one_statement_claim_declines_what_the_full_path_must_explain(database, world, case):  # noqa: F811
    user = _user(database, "cp@op1.org")  # expertise CP; tasks M05 need CP
    who, task_id, max_active = _acting(user), world["m05"]["S0"], 5
    operation_ids = [_operation_id(database, "op1")]
    other = _user(database, "cp2@op1.org")
    now = utcnow()
    if case == "no_shared_expertise":
        task_id = _task_needing(database, "M23")  # MHPSS only
    elif case == "tag_differs_in_case":
        who = Acting(who.actor, "expert", ("cp",))
    elif case == "other_operation":
        operation_ids = [_operation_id(database, "op2")]
    elif case == "held":
        _set_task(database, task_id, status=states.CLAIMED, claimed_by_user_id=other.id, claimed_at=now,
                  claim_expires_at=now + timedelta(hours=5))
    elif case == "lapsed":  # the full path records the expiry before the new claim
        _set_task(database, task_id, status=states.CLAIMED, claimed_by_user_id=other.id,
                  claimed_at=now - timedelta(hours=30), claim_expires_at=now - timedelta(hours=6))
    elif case == "limit_reached":
        max_active = 1
        _set_task(database, world["m05"]["S1"], status=states.CLAIMED, claimed_by_user_id=user.id, claimed_at=now,
                  claim_expires_at=now + timedelta(hours=5))
    elif case == "unknown_task":
        task_id = 10**6
    before = _claim_fields(database, task_id) if case != "unknown_task" else None
    with database.session() as session:
        assert claims.claim_open_task(session, task_id, who, operation_ids=operation_ids, now=now, terms=TERMS,
                                      max_active=max_active) is None
    if before is not None:
        assert _claim_fields(database, task_id) == before
        assert _trail(database, task_id) == ([], [])


def _operation_id(database, code: str) -> int:
    with database.session() as session:
        return session.scalar(sa.select(Operation.id).where(Operation.code == code))


def _task_needing(database, rule_id: str) -> int:
    with database.session() as session:
        return session.scalar(sa.select(MitigationTask.id).where(MitigationTask.rule_id == rule_id)
                              .order_by(MitigationTask.id).limit(1))


def _claim_over_http(port: int, token: str, task_id: int, barrier: threading.Barrier, results: list, index: int):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.connect()
        barrier.wait()
        connection.request("POST", f"/api/v1/tasks/{task_id}/claim", body=b"{}",
                           headers={**auth(token), "Content-Type": "application/json"})
        response = connection.getresponse()
        results[index] = (response.status, json.loads(response.read()))
    finally:
        connection.close()


def test_one_expert_claiming_many_tasks_at_once_gets_no_more_than_the_limit(app, database, world, served):  # noqa: F811
    app.config["MAX_ACTIVE_CLAIMS"] = 2
    with database.session() as session:  # expert2 (CP, CT): M05 of four sites, M01 of two districts
        task_ids = list(session.scalars(sa.select(MitigationTask.id).where(MitigationTask.rule_id.in_(["M01", "M05"]))))
    assert len(task_ids) == 6
    barrier = threading.Barrier(len(task_ids))
    results: list = [None] * len(task_ids)
    threads = [threading.Thread(target=_claim_over_http, args=(served, world["tokens"]["expert2"], task_id, barrier,
                                                               results, i))
               for i, task_id in enumerate(task_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert Counter(status for status, _ in results) == Counter({200: 2, 409: 4})
    assert {body["error"]["code"] for status, body in results if status == 409} == {"claim_limit"}
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MitigationTask).where(
            MitigationTask.claimed_by_user_id.is_not(None))) == 2


def test_a_claim_does_not_make_the_next_request_read_its_principal_again(app, client, world):  # noqa: F811
    engine = app.extensions["crisis_ct_db"].engine
    token_reads: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "api_tokens" in statement:
            token_reads.append(statement)
    token = world["tokens"]["expert2"]
    _post(client, token, world["m05"]["S0"])  # loads and caches the principal
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert _post(client, token, world["m05"]["S1"]).status_code == 200
        assert _post(client, token, world["m05"]["S2"]).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert token_reads == []


def _rows(database) -> tuple[int, int, int]:
    with database.session() as session:
        return (session.scalar(sa.select(sa.func.count()).select_from(TaskHistory)),
                session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
                session.scalar(sa.select(sa.func.count()).select_from(MitigationTask).where(
                    MitigationTask.claimed_by_user_id.is_not(None))))


def test_a_served_worker_warms_its_connections_without_changing_anything(database, world):  # noqa: F811
    from crisis_ct.app import create_app

    before = _rows(database)
    app = create_app({"DATABASE_URL": database.url, "TESTING": True, "SECRET_KEY": "test-secret",
                      "DB_WARM_CONNECTIONS": 3})
    try:
        pool = app.extensions["crisis_ct_db"].engine.pool
        assert pool.checkedin() == (3 if database.engine.dialect.name == "postgresql" else 1)
        assert _rows(database) == before
        response = _post(app.test_client(), world["tokens"]["expert"], world["m05"]["S0"])
        assert response.status_code == 200
    finally:
        app.extensions["crisis_ct_db"].dispose()


@pytest.mark.parametrize("tag, matches", [('a,b"{c}', True), ("a", False)])
def test_tags_with_punctuation_match_only_themselves(database, world, tag, matches):  # noqa: F811
    # PostgreSQL gets the tags as one array literal: a comma, quote or brace in a tag must
    # stay inside that tag, as Python's set intersection (the full path) sees it.
    user = _user(database, "cp@op1.org")
    task_id = world["m05"]["S0"]
    _set_task(database, task_id, expertise_tags=' a,b"{c} ')
    with database.session() as session:
        row = claims.claim_open_task(session, task_id, Acting(Actor(user.id, user.email), "expert", (tag,)),
                                     operation_ids=[_operation_id(database, "op1")], now=utcnow(), terms=TERMS,
                                     max_active=5)
        assert (row is not None) == matches


def test_a_database_error_in_the_postgres_claim_is_raised_as_sqlalchemy_raises_it(database, backend):
    # So the app's error handlers treat it as any other statement's (OperationalError: 503).
    if backend != "postgis":
        pytest.skip("the hand-written claim runs on PostgreSQL only")
    from crisis_ct.pg_text import array_literal
    from crisis_ct.tasks import claim_postgres

    params = {"task_id": 1, "user_id": "not a number", "actor": "x", "now": utcnow(), "max_active": 5,
              "comment": None, "operation_ids": array_literal([1]), "tags": array_literal(["CP"]),
              "priorities": array_literal(["P1"]), "default_slot": 2,
              "expiries": array_literal([utcnow().isoformat()] * 2)}
    with database.session() as session:
        with pytest.raises(sa.exc.DataError):
            claim_postgres.claim(session, params, commit=False)
