"""Events about tasks, found in what the task tables already record: the task rows (new
P1/P2 tasks, claims about to end) and their history (assigned, expired, verified,
rejected). Each function looks at the window (since, now] and returns events; looking twice
at the same window returns the same events with the same keys, so nothing is told twice."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.notifications.events import MAX_EVENTS_PER_KIND, Event, task_facts
from crisis_ct.notifications.rules import NotificationRule
from crisis_ct.tasks import states
from crisis_ct.tasks.models import MitigationTask, TaskHistory

TASK = MitigationTask


def new_matching_tasks(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    """Open tasks of the rule's priorities created in the window; recipients.py finds the
    experts whose expertise, languages and areas match."""
    priorities = list(rule.settings["priorities"])
    ids = session.scalars(sa.select(TASK.id).where(
        TASK.created_at > since, TASK.created_at <= now, TASK.status == states.OPEN, TASK.priority.in_(priorities))
        .order_by(TASK.priority, TASK.created_at.desc(), TASK.id).limit(MAX_EVENTS_PER_KIND)).all()
    facts = task_facts(session, ids)
    return [Event(kind=rule.kind, key=f"{rule.kind}:task:{task_id}", operation_id=facts[task_id].operation_id,
                  payload=facts[task_id].payload, place=facts[task_id].place, expertise=facts[task_id].expertise)
            for task_id in ids if task_id in facts]


def claims_expiring(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    """Claims that end within `hours_before` hours. The key holds the expiry, so a renewed
    claim warns again before its new end, and one claim warns once."""
    hours = rule.settings["hours_before"]
    rows = session.execute(sa.select(TASK.id, TASK.claimed_by_user_id, TASK.claim_expires_at).where(
        TASK.status.in_(sorted(states.HELD_STATES)), TASK.claimed_by_user_id.is_not(None),
        TASK.claim_expires_at > now, TASK.claim_expires_at <= now + timedelta(hours=hours))).all()
    facts = task_facts(session, [row.id for row in rows])
    return [Event(kind=rule.kind, operation_id=facts[row.id].operation_id, user_ids=(row.claimed_by_user_id,),
                  key=f"{rule.kind}:task:{row.id}:user:{row.claimed_by_user_id}:until:{row.claim_expires_at:%Y%m%d%H%M%S}",
                  payload={**facts[row.id].payload, "hours": _hours_text(hours)})
            for row in rows if row.id in facts]


def _hours_text(hours: float) -> str:
    return str(int(hours)) if float(hours).is_integer() else str(hours)


def _history(session: Session, action: str, since: datetime, now: datetime) -> list[TaskHistory]:
    return list(session.scalars(sa.select(TaskHistory).where(
        TaskHistory.action == action, TaskHistory.at > since, TaskHistory.at <= now)
        .order_by(TaskHistory.id.desc()).limit(MAX_EVENTS_PER_KIND)))


def _history_events(session: Session, rule: NotificationRule, action: str, since: datetime, now: datetime,
                    concerned) -> list[Event]:
    rows = _history(session, action, since, now)
    facts = task_facts(session, [row.task_id for row in rows])
    events = []
    for row in rows:
        user_id = concerned(row)
        if user_id is None or row.task_id not in facts:
            continue
        events.append(Event(kind=rule.kind, key=f"{rule.kind}:history:{row.id}", user_ids=(int(user_id),),
                            operation_id=facts[row.task_id].operation_id, payload=facts[row.task_id].payload))
    return events


def tasks_assigned(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    return _history_events(session, rule, states.RECORDED_AS["assign"], since, now,
                           lambda row: (row.details or {}).get("assignee_user_id"))


def claims_expired(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    return _history_events(session, rule, states.RECORDED_AS["expire"], since, now,
                           lambda row: (row.details or {}).get("previous_holder_user_id"))


def tasks_rejected(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    return _history_events(session, rule, states.RECORDED_AS["reject"], since, now,
                           lambda row: (row.details or {}).get("completed_by_user_id"))


def tasks_verified(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    # Verification keeps the holder on the task row as the person who did the work.
    rows = _history(session, states.RECORDED_AS["verify"], since, now)
    holders = {task_id: holder for task_id, holder in session.execute(
        sa.select(TASK.id, TASK.claimed_by_user_id).where(TASK.id.in_([row.task_id for row in rows])))}
    return _history_events(session, rule, states.RECORDED_AS["verify"], since, now,
                           lambda row: holders.get(row.task_id))
