"""Every change to a task leaves two traces in the same transaction: a task-history row
(what the task page shows) and an audit event (what the operation's audit log shows)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts import audit
from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import AuditEvent
from crisis_ct.tasks.models import MitigationTask, TaskHistory

# Free-text comments are stored as typed; a cap keeps a pasted document out of the history.
MAX_COMMENT_LENGTH = 2000


def write(session: Session, actor: Actor, task: MitigationTask, action: str, *, from_status: str | None,
          to_status: str, at: datetime, comment: str | None = None, details: dict | None = None) -> None:
    comment = (comment or "").strip()[:MAX_COMMENT_LENGTH] or None
    session.add(TaskHistory(task_id=task.id, at=at, actor_user_id=actor.user_id, actor=actor.label,
                            action=action, from_status=from_status, to_status=to_status, comment=comment,
                            details=details or {}))
    audit.record(session, actor, f"task.{action}", target_type="mitigation_task", target_id=task.id,
                 operation_id=task.operation_id,
                 details={"rule_id": task.rule_id, "from_status": from_status, "to_status": to_status,
                          **(details or {}), **({"comment": comment} if comment else {})})


def write_many(session: Session, actor: Actor, rows: list[dict]) -> None:
    """History and audit rows for many generator events at once. Each row is a history
    row plus `_operation_id` and `_rule_id` for its audit event."""
    if not rows:
        return
    session.execute(sa.insert(TaskHistory), [
        {key: value for key, value in row.items() if not key.startswith("_")} for row in rows])
    session.execute(sa.insert(AuditEvent), [{
        "at": row["at"], "actor_user_id": actor.user_id, "actor": actor.label, "operation_id": row["_operation_id"],
        "action": f"task.{row['action']}", "target_type": "mitigation_task", "target_id": str(row["task_id"]),
        "details": {"rule_id": row["_rule_id"], "from_status": row["from_status"], "to_status": row["to_status"],
                    **row["details"]},
    } for row in rows])
