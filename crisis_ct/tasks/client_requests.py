"""Progress notes and completions applied once per client-generated id.

A phone that was offline sends what it kept as soon as the network returns, and may send it
again if the answer was lost on the way (the request arrived, the reply did not). Each such
request carries a UUID the page made when the note was written. The first request with an id
claims it by inserting its row, in the same transaction as the task change; the answer is
stored on that row. A repeat finds the row and gets the stored answer; nothing is applied
twice.

Two repeats at the same moment: the insert is `ON CONFLICT DO NOTHING`. On PostgreSQL the
second insert waits for the first transaction and, once it commits, inserts nothing, so the
second request reads the stored answer; if the first rolled back, the second applies the
note itself. SQLite takes the write lock at BEGIN (crisis_ct.db), so the second runs after.

A refusal (the claim expired meanwhile, the task was cancelled) is not stored: nothing was
applied, the row is rolled back with the rest, and the same id may be sent again once its
cause is gone (e.g. after claiming the task again).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.spatial import spatial_sql
from crisis_ct.tasks.claims import TaskConflict
from crisis_ct.tasks.models import AppliedClientRequest

TABLE = AppliedClientRequest.__table__
# The task actions a phone may write offline; claim and renew need the network.
OFFLINE_ACTIONS = ("progress", "complete")
# How long an applied id is kept. A repeat only comes from a phone whose answer was lost, and
# it resends as soon as the network is back; once the expert's claim has ended (claims expire
# within days), a note or completion is refused anyway. Two months cover any of that.
KEEP_DAYS = 60


@dataclass(frozen=True)
class Applied:
    body: dict
    repeated: bool  # True: an earlier request with this id was applied; this is its answer


def normalised(client_id: str | uuid.UUID) -> str:
    """The id as stored: a UUID in its canonical lower-case form (ValueError otherwise)."""
    return str(client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id)))


def apply_once(session: Session, *, client_id: str | uuid.UUID, user_id: int, task_id: int, action: str,
               now: datetime, run: Callable[[], dict]) -> Applied:
    """Apply `run` (the task action, returning the answer's JSON) unless this user already sent
    `client_id`; the caller commits, or rolls back on a refusal. The same id sent for another
    task or action is a 409 (`client_id_reused`): the page never does that, a bug might."""
    client_id = normalised(client_id)
    claimed = session.execute(
        spatial_sql(session).insert(TABLE)
        .values(user_id=user_id, client_id=client_id, task_id=task_id, action=action, applied_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "client_id"])
        .returning(TABLE.c.client_id)).first()
    if claimed is None:
        return Applied(_stored_answer(session, user_id, client_id, task_id, action), repeated=True)
    body = run()
    session.execute(sa.update(TABLE).where(TABLE.c.user_id == user_id, TABLE.c.client_id == client_id)
                    .values(response=body))
    return Applied(body, repeated=False)


def _stored_answer(session: Session, user_id: int, client_id: str, task_id: int, action: str) -> dict:
    row = session.execute(sa.select(TABLE.c.task_id, TABLE.c.action, TABLE.c.response)
                          .where(TABLE.c.user_id == user_id, TABLE.c.client_id == client_id)).one()
    if (row.task_id, row.action) != (task_id, action):
        raise TaskConflict(f"This client_id was already used for {row.action} on task {row.task_id}.",
                           {"task_id": row.task_id, "action": row.action}, code="client_id_reused")
    return row.response


def prune_applied(session: Session, *, now: datetime) -> int:
    """Forget the ids applied more than KEEP_DAYS ago; returns how many."""
    return session.execute(sa.delete(TABLE).where(TABLE.c.applied_at < now - timedelta(days=KEEP_DAYS))).rowcount
