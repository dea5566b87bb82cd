"""Task transitions against the database, claims above all.

Every transition is ONE conditional UPDATE whose WHERE repeats what the caller saw (the task's
status, for holder-only actions the holder and an unexpired claim). Its rowcount decides: 1 =
this request won, 0 = someone changed the task first and the caller gets a conflict. There is
no check-then-write in Python that two requests could both pass; on PostgreSQL the losing
UPDATE waits for the winner's row lock and then re-reads the row, on SQLite every transaction
takes the write lock at BEGIN (crisis_ct.db).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import User
from crisis_ct.db import is_postgres
from crisis_ct.pg_text import array_literal
from crisis_ct.tasks import claim_postgres, history, states
from crisis_ct.tasks.models import MitigationTask, TaskHistory

TASKS = MitigationTask.__table__
EXPIRY_ACTOR = Actor.system("claim-expiry")
# A coordinator may hand out a longer claim than a self-claim, but not an open-ended one.
MAX_ASSIGN_HOURS = 24 * 90
_CLEARED_CLAIM = {"claimed_by_user_id": None, "claimed_at": None, "claim_expires_at": None}


class TaskActionError(Exception):
    status = 409
    code = "conflict"

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class TaskConflict(TaskActionError):
    """A lost race, a wrong state, someone else's claim, or the claim limit."""

    def __init__(self, message: str, details: dict | None = None, code: str = "conflict"):
        super().__init__(message, details)
        self.code = code


class TaskRefused(TaskActionError):
    status = 403
    code = "forbidden"


@dataclass(frozen=True)
class Acting:
    """Who acts on a task, and in which capacity (a role of crisis_ct.tasks.states.ACTION_ROLES)."""
    actor: Actor
    role: str  # expert | coordinator | admin | system
    expertise: tuple[str, ...] = field(default=())

    @property
    def user_id(self) -> int | None:
        return self.actor.user_id


def holds(task: MitigationTask, user_id: int | None, now: datetime) -> bool:
    return user_id is not None and task.claimed_by_user_id == user_id and is_held(task, now)


def is_held(task: MitigationTask, now: datetime) -> bool:
    """A claim past its expiry is not held, even before `crisis-ct tasks expire` has run."""
    return (task.status in states.HELD_STATES and task.claimed_by_user_id is not None
            and task.claim_expires_at is not None and task.claim_expires_at >= now)


def held_condition(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(TASKS.c.status.in_(sorted(states.HELD_STATES)), TASKS.c.claimed_by_user_id.is_not(None),
                   TASKS.c.claim_expires_at >= now)


def conflict_details(session: Session, task: MitigationTask, now: datetime) -> dict:
    session.refresh(task)
    holder = None
    if is_held(task, now):
        user = session.get(User, task.claimed_by_user_id)
        holder = {"id": user.id, "display_name": user.display_name} if user else None
    return {"status": task.status, "holder": holder,
            "expires_at": task.claim_expires_at.isoformat() if holder else None}


def _conflict(session: Session, task: MitigationTask, now: datetime, message: str,
              code: str = "conflict") -> TaskConflict:
    return TaskConflict(message, conflict_details(session, task, now), code)


def _step(session: Session, task: MitigationTask, action: str, who: Acting, *, now: datetime,
          comment: str | None = None, values: dict | None = None, where: tuple = (),
          details: dict | None = None) -> MitigationTask:
    is_holder = holds(task, who.user_id, now)
    try:
        transition = states.apply(task.status, action, role=who.role, is_holder=is_holder)
    except states.ActionNotAllowed as exc:
        if who.role in states.ACTION_ROLES.get(action, ()):
            lapsed_at = own_claim_lapsed_at(session, task, who.user_id, now)
            if lapsed_at is not None:
                error = _conflict(session, task, now, f"Your claim on this task expired at {lapsed_at.isoformat()}, "
                                                      f"so you cannot {action} it. Nothing was stored; claim the "
                                                      "task again to send it.", "claim_expired")
                error.details["claim_expired_at"] = lapsed_at.isoformat()
                raise error from exc
            raise _conflict(session, task, now, f"You do not hold this task, so you cannot {action} it.",
                            "not_holder") from exc
        raise TaskRefused(str(exc)) from exc
    except states.TransitionError as exc:
        raise _conflict(session, task, now, str(exc)) from exc
    if (who.role, action) in states.HOLDER_ONLY:
        where = (*where, TASKS.c.claimed_by_user_id == who.user_id, TASKS.c.claim_expires_at >= now)
    from_status = task.status
    if transition.to_state in states.FINAL_STATES:
        values = {**(values or {}), "closed_at": now}  # only newer evidence re-opens its rule here
    statement = (sa.update(TASKS).where(TASKS.c.id == task.id, TASKS.c.status == from_status, *where)
                 .values(status=transition.to_state, updated_at=now, **(values or {})))
    if not _update_and_reload(session, task, statement):
        raise _conflict(session, task, now, f"The task changed meanwhile; it could not be {transition.recorded_as}.")
    history.write(session, who.actor, task, transition.recorded_as, from_status=from_status,
                  to_status=transition.to_state, at=now, comment=comment, details=details)
    return task


def own_claim_lapsed_at(session: Session, task: MitigationTask, user_id: int | None,
                        now: datetime) -> datetime | None:
    """When this person's claim on the task lapsed, if their claim is what ended last: still
    on the row past its expiry, or released by the expiry job with nobody holding it since.
    A note written offline meets this when it arrives; the refusal then says why."""
    if user_id is None:
        return None
    if task.claimed_by_user_id == user_id and task.claim_expires_at is not None and task.claim_expires_at < now:
        return task.claim_expires_at
    if task.claimed_by_user_id is not None:
        return None
    last = session.execute(sa.select(TaskHistory.action, TaskHistory.at, TaskHistory.details)
                           .where(TaskHistory.task_id == task.id)
                           .order_by(TaskHistory.at.desc(), TaskHistory.id.desc()).limit(1)).first()
    if last is not None and last.action == states.RECORDED_AS["expire"] \
            and (last.details or {}).get("previous_holder_user_id") == user_id:
        return last.at
    return None


def _update_and_reload(session: Session, task: MitigationTask, statement: sa.Update) -> bool:
    """Run a conditional UPDATE of this one task; when it matched, load the updated row into
    `task` from RETURNING (what session.refresh would read, without a second round trip)."""
    row = session.execute(statement.returning(*TASKS.c)).first()
    if row is None:
        return False
    for column, value in zip(TASKS.c, row):
        set_committed_value(task, column.key, value)
    return True


def _release_if_lapsed(session: Session, task: MitigationTask, now: datetime) -> None:
    """A task whose claim lapsed counts as open: expire it first, in the same transaction."""
    if task.status in states.HELD_STATES and not is_held(task, now):
        _expire_one(session, task, now)


def _lock_user(session: Session, user_id: int) -> None:
    """Lock the row of the user who would hold the claim, so one expert's parallel claims on
    different tasks are counted in turn (PostgreSQL; SQLite already serialises writers).
    Every claim path takes it before touching the task (claim_open_task too): one lock
    order, so two paths cannot wait for each other's locks."""
    if is_postgres(session):
        session.execute(_LOCK_USER, {"user_id": user_id})


def _active_claims(session: Session, user_id: int, now: datetime) -> int:
    # The caller has locked the user's row (_lock_user).
    return session.scalar(sa.select(sa.func.count()).select_from(TASKS).where(
        TASKS.c.claimed_by_user_id == user_id, held_condition(now)))


def _check_claim_limit(session: Session, task: MitigationTask, user_id: int, now: datetime,
                       max_active: int) -> None:
    if _active_claims(session, user_id, now) >= max_active:
        error = _conflict(session, task, now, f"At most {max_active} active claims per expert; "
                                              "release or complete one first.", "claim_limit")
        error.details["max_active_claims"] = max_active
        raise error


def claim(session: Session, task: MitigationTask, who: Acting, *, now: datetime, hours: int,
          max_active: int, comment: str | None = None) -> MitigationTask:
    if not set(task.expertise) & set(who.expertise):
        raise TaskRefused(
            f"This task needs one of the expertise tags {', '.join(task.expertise)}; your profile has "
            f"{', '.join(who.expertise) or 'none'}. A coordinator can assign it to you.",
            {"needs_expertise": task.expertise, "your_expertise": list(who.expertise)})
    _lock_user(session, who.user_id)
    _release_if_lapsed(session, task, now)
    if task.status != states.OPEN:
        raise _conflict(session, task, now, f"The task is {task.status}, not open.")
    _check_claim_limit(session, task, who.user_id, now, max_active)
    return _step(session, task, "claim", who, now=now, comment=comment,
                 values={"claimed_by_user_id": who.user_id, "claimed_at": now,
                         "claim_expires_at": now + timedelta(hours=hours)},
                 details={"expires_at": (now + timedelta(hours=hours)).isoformat()})


@dataclass(frozen=True)
class ClaimTerms:
    """How long a claim lasts by task priority, known before the task is read."""
    hours_by_priority: dict[str, int]
    default_hours: int

    def hours(self, priority: str) -> int:
        return self.hours_by_priority.get(priority, self.default_hours)


def claim_open_task(session: Session, task_id: int, who: Acting, *, operation_ids: Sequence[int],
                    now: datetime, terms: ClaimTerms, max_active: int, comment: str | None = None,
                    returning: Sequence[sa.ColumnElement] = (), commit: bool = False):
    """The common claim in one conditional UPDATE: an open task of one of `operation_ids`
    that needs one of the expert's tags, while the expert holds fewer than `max_active`
    claims. Returns the updated row with its history and audit rows written, or None when
    any condition failed: the caller then takes the full path (`claim`), which finds out
    which and answers exactly as before (404, 403, lapsed claim expired first, 409 with
    details). The row has the fields queries.returned_task_json reads: on SQLite every task
    column, then `returning`; on PostgreSQL those the response needs, under the same names.
    `commit`: commit the claim at once (PostgreSQL: in the same round trip).

    No check-then-write: the status test sits in the UPDATE's WHERE, so of two claimers of
    one task the second re-checks the row once the first commits and matches nothing. The
    claim limit is counted in the same WHERE; on PostgreSQL the expert's user row is locked
    by the statement before, so the count (a later statement, hence a later snapshot under
    READ COMMITTED) sees every claim of this expert's parallel requests. A lock taken inside
    the UPDATE itself would not do: its count would use the snapshot taken before waiting
    for the lock. SQLite serialises writers at BEGIN IMMEDIATE."""
    tags = sorted({tag for tag in who.expertise if tag and not any(c.isspace() for c in tag)})
    if who.user_id is None or not tags or not operation_ids:
        return None
    priorities = tuple(sorted(terms.hours_by_priority))
    expiries = [now + timedelta(hours=terms.hours(p)) for p in priorities]
    expiries.append(now + timedelta(hours=terms.default_hours))
    comment = (comment or "").strip()[:history.MAX_COMMENT_LENGTH] or None
    if is_postgres(session):
        return claim_postgres.claim(session, {
            "task_id": task_id, "user_id": who.user_id, "actor": who.actor.label, "now": now,
            "max_active": max_active, "comment": comment, "operation_ids": array_literal(operation_ids),
            "tags": array_literal(tags), "priorities": array_literal(priorities), "default_slot": len(expiries),
            "expiries": array_literal(e.isoformat() for e in expiries)}, commit=commit)
    params = {"task_id": task_id, "user_id": who.user_id, "now": now, "max_active": max_active,
              **{f"priority_{i}": p for i, p in enumerate(priorities)},
              **{f"expires_{i}": e for i, e in enumerate(expiries)}}
    _lock_user(session, who.user_id)
    statement = _claim_update(priorities, tuple(returning), len(tags))
    row = session.execute(statement, {**params, "operation_ids": list(operation_ids),
                                      **{f"tag_{i}": f" {tag} " for i, tag in enumerate(tags)}}).first()
    if row is not None:
        history.write(session, who.actor, row, states.RECORDED_AS["claim"], from_status=states.OPEN,
                      to_status=states.CLAIMED, at=now, comment=comment,
                      details={"expires_at": (now + timedelta(hours=terms.hours(row.priority))).isoformat()})
        if commit:
            session.commit()
    return row


_LOCK_USER = sa.select(User.__table__.c.id).where(User.__table__.c.id == sa.bindparam("user_id")).with_for_update()


def _by_priority(priority: sa.ColumnElement, priorities: tuple[str, ...], name: str, type_) -> sa.ColumnElement:
    # The statement is built once per set of priorities; the values per claim are parameters.
    default = sa.bindparam(f"{name}_{len(priorities)}", type_=type_)
    if not priorities:
        return default
    return sa.case(*((priority == sa.bindparam(f"priority_{i}", type_=sa.String),
                      sa.bindparam(f"{name}_{i}", type_=type_)) for i in range(len(priorities))), else_=default)


@lru_cache(maxsize=64)
def _claim_update(priorities: tuple[str, ...], returning: tuple, n_tags: int) -> sa.Update:
    """SQLite's claim UPDATE (PostgreSQL's is crisis_ct.tasks.claim_postgres)."""
    held = TASKS.alias("held")
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    now = sa.bindparam("now", type_=TASKS.c.claimed_at.type)
    active = (sa.select(sa.func.count()).select_from(held).where(
        held.c.claimed_by_user_id == user_id,
        held.c.status.in_([sa.literal_column(f"'{status}'") for status in sorted(states.HELD_STATES)]),
        held.c.claim_expires_at >= now).scalar_subquery())
    in_operation = TASKS.c.operation_id.in_(sa.bindparam("operation_ids", expanding=True))
    # instr: case-sensitive and free of LIKE wildcards, as Python's set intersection.
    needs_tag = sa.or_(*(sa.func.instr(TASKS.c.expertise_tags, sa.bindparam(f"tag_{i}", type_=sa.String)) > 0
                         for i in range(n_tags)))
    return (sa.update(TASKS)
            .where(TASKS.c.id == sa.bindparam("task_id", type_=sa.Integer), TASKS.c.status == states.OPEN,
                   in_operation, needs_tag, active < sa.bindparam("max_active", type_=sa.Integer))
            .values(status=states.CLAIMED, claimed_by_user_id=user_id, claimed_at=now, updated_at=now,
                    claim_expires_at=_by_priority(TASKS.c.priority, priorities, "expires", TASKS.c.claim_expires_at.type))
            .returning(*TASKS.c, *returning))


def assign(session: Session, task: MitigationTask, who: Acting, *, assignee: User, now: datetime,
           hours: int, max_active: int, comment: str | None = None) -> MitigationTask:
    if not 1 <= hours <= MAX_ASSIGN_HOURS:
        raise TaskConflict(f"expires_hours must be between 1 and {MAX_ASSIGN_HOURS}.", code="invalid_expiry")
    _lock_user(session, assignee.id)
    _release_if_lapsed(session, task, now)
    if task.claimed_by_user_id != assignee.id or not is_held(task, now):
        _check_claim_limit(session, task, assignee.id, now, max_active)
    expires = now + timedelta(hours=hours)
    return _step(session, task, "assign", who, now=now, comment=comment,
                 values={"claimed_by_user_id": assignee.id, "claimed_at": now, "claim_expires_at": expires},
                 details={"assignee_user_id": assignee.id, "previous_holder_user_id": task.claimed_by_user_id,
                          "expires_at": expires.isoformat()})


def renew(session: Session, task: MitigationTask, who: Acting, *, now: datetime, hours: int,
          comment: str | None = None) -> MitigationTask:
    expires = now + timedelta(hours=hours)
    return _step(session, task, "renew", who, now=now, comment=comment, values={"claim_expires_at": expires},
                 details={"expires_at": expires.isoformat()})


def progress(session: Session, task: MitigationTask, who: Acting, *, now: datetime,
             comment: str | None = None) -> MitigationTask:
    return _step(session, task, "progress", who, now=now, comment=comment)


def complete(session: Session, task: MitigationTask, who: Acting, *, now: datetime,
             comment: str | None = None) -> MitigationTask:
    # The holder stays recorded as who did the work; the claim itself ends.
    return _step(session, task, "complete", who, now=now, comment=comment, values={"claim_expires_at": None})


def release(session: Session, task: MitigationTask, who: Acting, *, now: datetime,
            comment: str | None = None) -> MitigationTask:
    details = {"previous_holder_user_id": task.claimed_by_user_id}
    where = ()
    if who.role != "expert":
        # A coordinator frees the claim they saw, not one taken since.
        where = (TASKS.c.claimed_by_user_id == task.claimed_by_user_id,)
    return _step(session, task, "release", who, now=now, comment=comment, values=_CLEARED_CLAIM,
                 where=where, details=details)


def verify(session: Session, task: MitigationTask, who: Acting, *, now: datetime,
           comment: str | None = None) -> MitigationTask:
    return _step(session, task, "verify", who, now=now, comment=comment)


def reject(session: Session, task: MitigationTask, who: Acting, *, now: datetime,
           comment: str | None = None) -> MitigationTask:
    return _step(session, task, "reject", who, now=now, comment=comment, values=_CLEARED_CLAIM,
                 details={"completed_by_user_id": task.claimed_by_user_id})


def cancel(session: Session, task: MitigationTask, who: Acting, *, now: datetime,
           comment: str | None = None) -> MitigationTask:
    return _step(session, task, "cancel", who, now=now, comment=comment,
                 values={"claim_expires_at": None} if task.status == states.DONE else _CLEARED_CLAIM)


def _expire_one(session: Session, task: MitigationTask, now: datetime) -> bool:
    holder = task.claimed_by_user_id
    statement = (sa.update(TASKS).where(
        TASKS.c.id == task.id, TASKS.c.status == task.status, TASKS.c.claim_expires_at < now,
        TASKS.c.claimed_by_user_id == holder if holder is not None else TASKS.c.claimed_by_user_id.is_(None))
        .values(status=states.OPEN, updated_at=now, **_CLEARED_CLAIM))
    from_status = task.status
    if not _update_and_reload(session, task, statement):
        session.refresh(task)
        return False
    history.write(session, EXPIRY_ACTOR, task, states.RECORDED_AS["expire"], from_status=from_status,
                  to_status=states.OPEN, at=now, details={"previous_holder_user_id": holder})
    return True


def expire_claims(session: Session, *, now: datetime) -> int:
    """Release every claim past its expiry; returns how many were released."""
    lapsed = session.scalars(sa.select(MitigationTask).where(
        MitigationTask.status.in_(sorted(states.HELD_STATES)), MitigationTask.claim_expires_at < now)
        .order_by(MitigationTask.id)).all()
    return sum(1 for task in lapsed if _expire_one(session, task, now))
