"""The common claim on PostgreSQL: one hand-written statement, sent with the user-row lock and
COMMIT in one round trip (crisis_ct.tasks.claims.claim_open_task decides when it applies and
builds its parameters; SQLite runs the same claim as SQLAlchemy statements there)."""
from __future__ import annotations

from contextlib import nullcontext

import psycopg
import sqlalchemy as sa
from psycopg import Pipeline
from psycopg.rows import namedtuple_row
from sqlalchemy.orm import Session

from crisis_ct.tasks import states
from crisis_ct.timeutil import as_utc

# The UPDATE, its task-history row and its audit event in one statement
# (data-modifying CTEs), answering with what the response shows. Written out by hand, not
# built with SQLAlchemy: it runs on the raw psycopg connection (see claim below), and
# psycopg caches its conversion of a query only below 4,096 characters (the built one had
# 5,800 and was re-parsed on every claim). The rows written are those history.write makes
# for a claim (tests/tasks/test_claims_fast.py compares them with the full path's); the
# answer's names are those of queries.returned_columns() and the task's columns.
# The claim's expiry: the slot of the task's priority in `priorities`, else the last, of
# `expiries` (ISO texts: the timestamps set and the texts the history records).
_SLOT = "coalesce(array_position(%(priorities)s::text[], t.priority), %(default_slot)s::int)"
_HELD = ", ".join(f"'{status}'" for status in sorted(states.HELD_STATES))
_RECORDED = states.RECORDED_AS["claim"]
CLAIM = f"""
WITH claimed AS (
 UPDATE mitigation_tasks AS t SET status = '{states.CLAIMED}', claimed_by_user_id = %(user_id)s::int,
  claimed_at = %(now)s, updated_at = %(now)s, claim_expires_at = (%(expiries)s::text[]::timestamptz[])[{_SLOT}]
 WHERE t.id = %(task_id)s::int AND t.status = '{states.OPEN}' AND t.operation_id = ANY(%(operation_ids)s::int[])
  AND string_to_array(btrim(t.expertise_tags), ' ') && %(tags)s::text[]
  AND (SELECT count(*) FROM mitigation_tasks AS held WHERE held.claimed_by_user_id = %(user_id)s::int
   AND held.status IN ({_HELD}) AND held.claim_expires_at >= %(now)s) < %(max_active)s::int
 RETURNING t.*, (%(expiries)s::text[])[{_SLOT}] AS expires_iso
), history AS (
 INSERT INTO mitigation_task_history (task_id, at, actor_user_id, actor, action, from_status, to_status,
  comment, details)
 SELECT id, %(now)s, %(user_id)s::int, %(actor)s::text, '{_RECORDED}', '{states.OPEN}', '{states.CLAIMED}',
  %(comment)s::text, jsonb_build_object('expires_at', expires_iso) FROM claimed
), audit AS (
 INSERT INTO audit_events (at, actor_user_id, actor, operation_id, action, target_type, target_id, details)
 SELECT %(now)s, %(user_id)s::int, %(actor)s::text, operation_id, 'task.{_RECORDED}', 'mitigation_task', id::text,
  jsonb_strip_nulls(jsonb_build_object('rule_id', rule_id, 'from_status', '{states.OPEN}',
   'to_status', '{states.CLAIMED}', 'expires_at', expires_iso, 'comment', %(comment)s::text))
 FROM claimed
)
SELECT c.id, c.rule_id, c.sector, c.priority, c.status, c.scope, c.expertise_tags, c.due_at,
 c.needs_review, c.review_reason, c.evidence, c.site_score_id, c.area_score_id, c.assessment_date,
 c.claimed_by_user_id, c.claimed_at, c.claim_expires_at, c.created_at, c.updated_at,
 x.title AS text_title, x.description AS text_description, s.site_code AS site_site_code,
 s.name AS site_name, s.adm1_pcode AS site_adm1_pcode, s.adm2_pcode AS site_adm2_pcode,
 s.adm3_pcode AS site_adm3_pcode, s.population_households AS site_population_households,
 a.pcode AS area_pcode, o.code AS operation_code,
 u.display_name AS holder_display_name
FROM claimed AS c LEFT JOIN mitigation_rule_texts AS x ON x.id = c.rule_text_id
 LEFT JOIN sites AS s ON s.id = c.site_id LEFT JOIN admin_areas AS a ON a.id = c.admin_area_id
 LEFT JOIN operations AS o ON o.id = c.operation_id LEFT JOIN users AS u ON u.id = c.claimed_by_user_id
"""
LOCK_USER = "SELECT id FROM users WHERE id = %(user_id)s::int FOR UPDATE"
_DATETIMES = ("due_at", "claimed_at", "claim_expires_at", "created_at", "updated_at")


def claim(session: Session, params: dict, *, commit: bool):
    """The user-row lock, the claim and (with `commit`) COMMIT sent at once in psycopg's
    pipeline mode, on the session's own connection and transaction: one round trip, where
    BEGIN, the lock, the claim and COMMIT each waited for the server in turn. The server
    still runs them in order, so the claim's count comes after the lock (READ COMMITTED:
    a new snapshot per statement). An error in any of them aborts the rest and raises."""
    connection = session.connection().connection.driver_connection
    try:
        # Pipeline mode needs libpq 14 or later; without it the same calls run one by one.
        with connection.pipeline() if Pipeline.is_supported() else nullcontext():
            # Prepared at once (psycopg would wait for the fifth use), with the generic plan
            # from the start: PostgreSQL plans a prepared statement's first five runs anew
            # (~0.7 ms each, against 0.3 ms for the whole claim once planned), and psycopg drops
            # a connection's prepared statements at every ROLLBACK, which ends each read-only
            # request, so those first runs came back all the time.
            connection.cursor().execute("SET LOCAL plan_cache_mode = force_generic_plan", prepare=False)
            connection.cursor().execute(LOCK_USER, params, prepare=True)
            claimed = connection.cursor(row_factory=namedtuple_row)
            claimed.execute(CLAIM, params, prepare=True)
            if commit:
                # As a statement, not connection.commit(): that would wait for the server there,
                # and leaving the pipeline would then wait once more. SQLAlchemy's later commit
                # finds nothing to commit (psycopg reads the transaction state from the server).
                connection.cursor().execute("COMMIT", prepare=False)
    except psycopg.Error as exc:
        # As SQLAlchemy would raise it, so the app's handlers answer as for any statement
        # (a database that went away: 503, which Kobo and clients retry).
        raise sa.exc.DBAPIError.instance(CLAIM, params, exc, psycopg.Error) from exc
    row = claimed.fetchone()
    if row is None:
        return None
    # As UTCDateTime reads them: in UTC whatever the connection's time zone.
    return row._replace(**{name: as_utc(getattr(row, name)) for name in _DATETIMES})
