"""Failed sign-ins slow down password guessing: after a few failures for one email within a
window, that email cannot sign in until the window has passed, whatever password is typed;
a client (IP address) that fails too often is refused the same way, for any email.

Each attempt first takes a slot in its counter row (`login_counters`, one per email and one
per client) with a single atomic INSERT … ON CONFLICT DO UPDATE … RETURNING, committed
before the password is looked at; a slot past the limit means no password check at all. A
successful sign-in gives its slot back. So 60 simultaneous guesses at one account, in any
number of app processes, check at most `max_failures` passwords: the count and the decision
are one step in the database, not a read followed by a write.

The window is fixed: it starts with the first attempt after the previous window ended, and
a locked key opens when its window does. Failures and refusals are also in the audit log
(`login.failed`, `login.throttled`), which is for people, not for the count."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.models import LoginCounter
from crisis_ct.spatial import spatial_sql
from crisis_ct.types import UTCDateTime

FAILED = "login.failed"
THROTTLED = "login.throttled"
TARGET_TYPE = "login_email"
_COUNTERS = LoginCounter.__table__


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Slot:
    """One attempt counted under `key`; `allowed` false when it is past the limit."""

    key: str
    window_started_at: datetime
    attempts: int
    allowed: bool
    locked_until: datetime | None


def email_key(email: str) -> str:
    # The audit target id holds 64 characters: two longer emails typed with the same first 64
    # share a count, which only ever throttles sooner.
    return email.strip().lower()[:64]


def email_counter(email: str) -> str:
    return f"email:{email_key(email)}"


def client_counter(address: str | None) -> str:
    return f"client:{(address or 'unknown')[:140]}"


def take_slot(session: Session, key: str, *, now: datetime, policy: LoginPolicy) -> Slot:
    """Counts one attempt under `key` and says whether it may check a password. The caller
    commits at once, before checking, so other attempts see the count."""
    now_value = sa.literal(now, UTCDateTime())
    window_over = _COUNTERS.c.window_started_at <= now - policy.window
    statement = (
        spatial_sql(session).insert(_COUNTERS)
        .values(key=key, window_started_at=now, attempts=1)
    )
    statement = statement.on_conflict_do_update(
        index_elements=[_COUNTERS.c.key],
        set_={
            "attempts": sa.case((window_over, 1), else_=_COUNTERS.c.attempts + 1),
            "window_started_at": sa.case((window_over, now_value), else_=_COUNTERS.c.window_started_at),
        },
    ).returning(_COUNTERS.c.attempts, _COUNTERS.c.window_started_at)
    attempts, started = session.execute(statement).one()
    started = UTCDateTime().process_result_value(started, None)
    allowed = attempts <= policy.max_failures
    return Slot(key, started, attempts, allowed, None if allowed else started + policy.window)


def give_back(session: Session, slot: Slot) -> None:
    """An attempt that was no failure (the password was right) frees its slot."""
    session.execute(
        sa.update(LoginCounter)
        .where(LoginCounter.key == slot.key, LoginCounter.window_started_at == slot.window_started_at,
               LoginCounter.attempts > 0)
        .values(attempts=LoginCounter.attempts - 1)
    )


def clear(session: Session, key: str) -> bool:
    """Opens a locked key at once (`crisis-ct users unlock`); True when it was counted."""
    return session.execute(sa.delete(LoginCounter).where(LoginCounter.key == key)).rowcount > 0


def locked_until(session: Session, key: str, *, now: datetime, policy: LoginPolicy) -> datetime | None:
    """When a key opens again, or None when it is open now (read only: for people, not for
    deciding an attempt, which take_slot does)."""
    row = session.get(LoginCounter, key)
    if row is None or row.attempts < policy.max_failures or row.window_started_at <= now - policy.window:
        return None
    return row.window_started_at + policy.window
