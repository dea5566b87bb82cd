"""Every change to a task leaves two traces in the same transaction: a task-history row
(what the task page shows) and an audit event (what the operation's audit log shows)."""
from __future__ import annotations

from datetime import datetime, timezone
from operator import itemgetter
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import AuditEvent
from crisis_ct.db import is_postgres, json_dumps
from crisis_ct.timeutil import as_utc
from crisis_ct.types import UTCDateTime
from crisis_ct.tasks.models import MitigationTask, TaskHistory

# How a task's creation reads in its history. No history row is stored for it: the task row
# itself records when it was created and the audit event names the score that caused it, and a
# first scoring creates ~130,000 tasks at once (one row each would double what it writes).
GENERATOR = Actor.system("task-generator")
CREATED_EVENT = {"actor": GENERATOR.label, "action": "created", "from_status": None, "to_status": "open",
                 "comment": None}
# The audit action of the generator's events at one place (see write_generated).
GENERATED_ACTION = "tasks.generated"
# Free-text comments are stored as typed; a cap keeps a pasted document out of the history.
MAX_COMMENT_LENGTH = 2000


def write(session: Session, actor: Actor, task: MitigationTask, action: str, *, from_status: str | None,
          to_status: str, at: datetime, comment: str | None = None, details: dict | None = None) -> None:
    comment = (comment or "").strip()[:MAX_COMMENT_LENGTH] or None
    # Plain INSERTs (after an autoflush, so earlier pending rows keep their order) rather than
    # ORM objects: a claim is on the hot path and nothing reads these rows back as objects.
    session.execute(sa.insert(TaskHistory).values(
        task_id=task.id, at=at, actor_user_id=actor.user_id, actor=actor.label, action=action,
        from_status=from_status, to_status=to_status, comment=comment, details=details or {}))
    session.execute(sa.insert(AuditEvent).values(
        actor_user_id=actor.user_id, actor=actor.label, operation_id=task.operation_id,
        action=f"task.{action}", target_type="mitigation_task", target_id=str(task.id),
        details={"rule_id": task.rule_id, "from_status": from_status, "to_status": to_status,
                 **(details or {}), **({"comment": comment} if comment else {})}))


def write_generated(session: Session, actor: Actor, rows: list[dict], *, at: datetime,
                    created: Sequence[tuple[tuple, int, str, str]] = ()) -> None:
    """History rows for many generator events at once, and their audit events: one per place
    and batch, listing what happened to which task there. Each row is a history row plus
    `_place` (scope, place id, operation id, score id) and `_rule_id`; `created` lists the
    tasks created, as (place, task id, rule id, priority): they get no history row (see
    CREATED_EVENT), only their entry in the place's audit event, after the place's other events.

    The tasks issue asks for every action on a task in the audit log, and the log is where a
    coordinator looks; but a first scoring of 10,000 sites creates ~130,000 tasks, and one
    audit row per task would cost as much as the tasks themselves. Grouped by place, the log
    still names every task and rule, with the score that caused it."""
    if rows:
        insert_rows(session, TaskHistory.__table__, rows,
                    columns=[key for key in rows[0] if not key.startswith("_")])
    by_place: dict[tuple, list[dict]] = {}
    for row in rows:
        details = {key: value for key, value in row["details"].items() if key != "score_id"}
        by_place.setdefault(row["_place"], []).append({
            "task_id": row["task_id"], "rule_id": row["_rule_id"], "action": row["action"],
            "from_status": row["from_status"], "to_status": row["to_status"], **details})
    for place, task_id, rule_id, priority in created:
        by_place.setdefault(place, []).append({
            "task_id": task_id, "rule_id": rule_id, "action": CREATED_EVENT["action"],
            "from_status": CREATED_EVENT["from_status"], "to_status": CREATED_EVENT["to_status"],
            "priority": priority})
    insert_rows(session, AuditEvent.__table__, [{
        "at": at, "actor_user_id": actor.user_id, "actor": actor.label, "operation_id": operation_id,
        "action": GENERATED_ACTION, "target_type": scope, "target_id": str(place_id),
        "details": {"score_id": score_id, "tasks": events},
    } for (scope, place_id, operation_id, score_id), events in by_place.items()])


def insert_rows(session: Session, table: sa.Table, rows: Sequence[dict], *, with_ids: bool = False,
                columns: Sequence[str] | None = None) -> list[int]:
    """Insert many rows of one shape (only `columns` of each, when given); their new ids in
    order when `with_ids`.

    On PostgreSQL the ids are drawn from the sequence first and the rows go in by COPY: a
    pipelined executemany of 10,000 task rows (with their JSON) costs seconds of driver time,
    COPY a fraction of it. Elsewhere (SQLite, or a single row) a plain INSERT."""
    if not rows:
        return []
    copying = is_postgres(session) and len(rows) > 1
    if columns is not None and not copying:
        rows = [{name: row[name] for name in columns} for row in rows]
    if not copying:
        if not with_ids:
            session.execute(sa.insert(table), list(rows))
            return []
        return list(session.scalars(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                    list(rows)))
    ids: list[int] = []
    if with_ids:
        # One row holding every id: 130,000 single-value rows cost more to fetch than to COPY.
        ids = session.scalar(sa.text(
            f"SELECT array_agg(nextval(pg_get_serial_sequence('{table.name}', 'id'))) FROM generate_series(1, :n)"),
            {"n": len(rows)})
        rows = [{**row, "id": id_} for row, id_ in zip(rows, ids)]
        if columns is not None:
            columns = [*columns, "id"]
    _copy(session, table, rows, columns or list(rows[0]))
    return ids


def _is_json(column: sa.Column) -> bool:
    return isinstance(column.type, sa.JSON) or isinstance(getattr(column.type, "impl", None), sa.JSON)


def _json_encoder():
    """JSON text of a value; a dict object shared by many rows (a rule's title) is encoded once.
    Keyed by identity, which is safe because every row stays alive until the COPY ends."""
    encoded: dict[int, str] = {}

    def encode(value):
        if value is None:
            return None
        if type(value) is not dict:
            return json_dumps(value)
        key = id(value)
        text = encoded.get(key)
        if text is None:
            text = encoded[key] = json_dumps(value)
        return text
    return encode


def _utc_for_copy(value: datetime | None) -> datetime | None:
    # Rows built here hold aware UTC datetimes already; only others need converting.
    return value if value is None or value.tzinfo is timezone.utc else as_utc(value)


def _copy(session: Session, table: sa.Table, rows: Sequence[dict], columns: Sequence[str]) -> None:
    converters = []
    for index, name in enumerate(columns):
        column = table.c[name]
        if _is_json(column):
            converters.append((index, _json_encoder()))
        elif isinstance(column.type, UTCDateTime):
            converters.append((index, _utc_for_copy))
    values_of = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    session.flush()
    connection = session.connection()
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = list(values_of(row))
                for index, convert in converters:
                    values[index] = convert(values[index])
                copy.write_row(values)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error) from exc
