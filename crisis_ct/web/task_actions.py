"""Running one task action for a page: call crisis_ct.tasks.claims (the same functions,
and so the same database-enforced rules, as the API) and turn its outcome into a
message a person understands, conflicts included."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_datetime, gettext as _
from sqlalchemy.orm import Session

from crisis_ct.accounts.models import User
from crisis_ct.accounts.principal import Principal
from crisis_ct.db import committed_retrying_once
from crisis_ct.tasks import claims
from crisis_ct.tasks.claims import Acting, TaskActionError, TaskConflict, TaskRefused
from crisis_ct.tasks.models import MitigationTask
from crisis_ct.timeutil import as_utc
from crisis_ct.web.labels import task_action_label, task_status_label


@dataclass(frozen=True)
class ActionRequest:
    action: str
    role: str  # the capacity: expert | coordinator
    comment: str | None = None
    assignee: User | None = None
    claim_hours: int = 24
    max_active: int = 5


@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    message: str


def _call(session: Session, task: MitigationTask, who: Acting, request: ActionRequest, now: datetime):
    action, comment = request.action, request.comment
    if action == "claim":
        return claims.claim(session, task, who, now=now, hours=request.claim_hours,
                            max_active=request.max_active, comment=comment)
    if action == "renew":
        return claims.renew(session, task, who, now=now, hours=request.claim_hours, comment=comment)
    if action == "assign":
        return claims.assign(session, task, who, assignee=request.assignee, now=now, hours=request.claim_hours,
                             max_active=request.max_active, comment=comment)
    step = {"progress": claims.progress, "complete": claims.complete, "release": claims.release,
            "verify": claims.verify, "reject": claims.reject, "cancel": claims.cancel}[action]
    return step(session, task, who, now=now, comment=comment)


def run_action(session: Session, task: MitigationTask, principal: Principal, request: ActionRequest, *,
               now: datetime) -> ActionOutcome:
    """Commits on success (a deadlock lost to another action is run once more), rolls back
    on a refusal or conflict."""
    who = Acting(principal.actor, request.role, tuple(principal.expertise))
    try:
        committed_retrying_once(session, lambda: _call(session, task, who, request, now))
    except TaskActionError as error:
        session.rollback()
        return ActionOutcome(False, refusal_message(request.action, error))
    return ActionOutcome(True, done_message(request.action, request.assignee))


def done_message(action: str, assignee: User | None = None) -> str:
    if action == "claim":
        return _("You claimed this task. Report progress or release it if you cannot do it.")
    if action == "assign" and assignee is not None:
        return _("The task is assigned to %(name)s.", name=assignee.display_name)
    return _("Done: %(action)s.", action=task_action_label(action))


def refusal_message(action: str, error: TaskActionError) -> str:
    """Why the action did not happen, with the task's current state and holder."""
    details = error.details or {}
    if isinstance(error, TaskRefused):
        needed = details.get("needs_expertise")
        if needed:
            return _("This task needs one of these expertise tags: %(needed)s. Your profile has: %(yours)s. "
                     "A coordinator can assign it to you.",
                     needed=", ".join(needed), yours=", ".join(details.get("your_expertise") or []) or "—")
        return _("You may not do this on this task.")
    if isinstance(error, TaskConflict) and error.code == "claim_limit":
        return _("You already hold %(count)s active claims, the most allowed. Release or complete one first.",
                 count=details.get("max_active_claims", "?"))
    if isinstance(error, TaskConflict) and error.code == "invalid_expiry":
        return _("The claim length is not allowed.")
    return conflict_message(action, details)


def conflict_message(action: str, details: dict) -> str:
    what = task_action_label(action)
    status = task_status_label(details.get("status"))
    holder = (details.get("holder") or {}).get("display_name")
    expires = details.get("expires_at")
    if holder and expires:
        until = format_datetime(as_utc(datetime.fromisoformat(expires)), "short")
        return _("Not done (%(action)s): the task is now %(status)s, held by %(holder)s until %(until)s.",
                 action=what, status=status, holder=holder, until=until)
    if holder:
        return _("Not done (%(action)s): the task is now %(status)s, held by %(holder)s.",
                 action=what, status=status, holder=holder)
    return _("Not done (%(action)s): the task is now %(status)s.", action=what, status=status)
