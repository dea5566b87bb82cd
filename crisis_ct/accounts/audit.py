"""The audit log: every change a person makes, written in the same transaction."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from crisis_ct.accounts.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or a named system process (CLI, Kobo sync)."""

    user_id: int | None
    label: str

    @classmethod
    def system(cls, label: str) -> "Actor":
        return cls(None, label)


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target_type: str | None = None,
    target_id: object = None,
    operation_id: int | None = None,
    details: dict | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor_user_id=actor.user_id,
            actor=actor.label,
            operation_id=operation_id,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            details=details or {},
        )
    )
