"""Failed sign-ins slow down password guessing: after a few failures for one email within a
window, that email cannot sign in until the window has passed, whatever password is typed.

The failures are the audit log's own `login.failed` events (target: the email as typed, in
lower case), so the count holds across worker processes and restarts without a table of its
own. Keyed by email rather than address: behind a reverse proxy every guess may come from
one address, and an account is what a guesser is after. API tokens are random and long, so
they are not throttled."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.models import AuditEvent

FAILED = "login.failed"
THROTTLED = "login.throttled"
TARGET_TYPE = "login_email"


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


def locked_until(failures: Sequence[datetime], *, now: datetime, policy: LoginPolicy) -> datetime | None:
    """When sign-in opens again for an email with these failure times, or None if it is open.
    Only failures within the window count; the lock lasts until the oldest of the last
    `max_failures` of them leaves the window."""
    recent = sorted(at for at in failures if now - policy.window < at <= now)
    if len(recent) < policy.max_failures:
        return None
    return recent[-policy.max_failures] + policy.window


def email_key(email: str) -> str:
    # The audit target id holds 64 characters: two longer emails typed with the same first 64
    # share a count, which only ever throttles sooner.
    return email.strip().lower()[:64]


def recent_failures(session: Session, email: str, *, now: datetime, policy: LoginPolicy) -> list[datetime]:
    return list(session.scalars(sa.select(AuditEvent.at).where(
        AuditEvent.action == FAILED, AuditEvent.target_type == TARGET_TYPE,
        AuditEvent.target_id == email_key(email), AuditEvent.at > now - policy.window)))
