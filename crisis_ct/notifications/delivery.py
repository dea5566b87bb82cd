"""Mailing the notifications that are due, each at most once, whatever the number of workers.

For each person with something due: (1) in its own committed transaction, the due rows move
pending -> sending with a conditional UPDATE naming this worker (a second worker's UPDATE
finds them no longer pending and takes nothing); (2) one email goes out, about one row or
several (a digest, or what waited for quiet hours to end); (3) the rows become sent. When the
server refuses or cannot be reached, the rows go back to pending with a later time
(doubling, at most 6 hours) until MAX_ATTEMPTS, then stay failed with the error. A row a
dead worker left "sending" may have been mailed: it is marked failed, never sent again.
A request never waits for any of this: only the worker sends."""
from __future__ import annotations

import hashlib
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

import sqlalchemy as sa

from crisis_ct.accounts.models import User
from crisis_ct.db import Database
from crisis_ct.mail import build_message, deliver, smtp_server
from crisis_ct.notifications.messages import email_text, language_of
from crisis_ct.notifications.models import Notification
from crisis_ct.notifications.rules import NotificationRules
from crisis_ct.timeutil import utcnow

N = Notification
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
STALE_SENDING = timedelta(minutes=15)
BATCH = 200


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), timedelta(hours=6))


@dataclass
class SendResult:
    sent: int = 0
    emails: int = 0
    retrying: int = 0
    failed: int = 0

    def line(self) -> str | None:
        if not (self.sent or self.retrying or self.failed):
            return None
        return (f"mailed {self.sent} notification(s) in {self.emails} email(s)"
                + (f"; {self.retrying} to retry" if self.retrying else "")
                + (f"; {self.failed} given up" if self.failed else ""))


def _give_up_stale(database: Database, now: datetime) -> int:
    with database.session() as session:
        return session.execute(
            sa.update(N).where(N.email_status == "sending", N.sending_at < now - STALE_SENDING)
            .values(email_status="failed", last_error="the worker sending it stopped; not sent again, "
                                                      "it may have gone out")
            .execution_options(synchronize_session=False)).rowcount


def _due_by_person(database: Database, now: datetime) -> dict[int, list[int]]:
    with database.session() as session:
        rows = session.execute(sa.select(N.user_id, N.id).where(N.email_status == "pending", N.email_due_at <= now)
                               .order_by(N.email_due_at, N.id).limit(BATCH)).all()
    due: dict[int, list[int]] = defaultdict(list)
    for user_id, notification_id in rows:
        due[user_id].append(notification_id)
    return due


def _take(database: Database, ids: list[int], worker_id: str, now: datetime) -> list[int]:
    """The rows this worker now holds for sending (committed before anything is sent)."""
    with database.session() as session:
        return list(session.scalars(
            sa.update(N).where(N.id.in_(ids), N.email_status == "pending")
            .values(email_status="sending", sending_by=worker_id, sending_at=now, attempts=N.attempts + 1)
            .returning(N.id)))


def _finish(database: Database, ids: list[int], worker_id: str, now: datetime, error: str | None,
            result: SendResult) -> None:
    with database.session() as session:
        mine = sa.and_(N.id.in_(ids), N.email_status == "sending", N.sending_by == worker_id)
        if error is None:
            result.sent += session.execute(sa.update(N).where(mine).values(email_status="sent", sent_at=now)
                                           .execution_options(synchronize_session=False)).rowcount
            result.emails += 1
            return
        for row in session.scalars(sa.select(N).where(mine)):
            row.last_error = error[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.email_status = "failed"
                result.failed += 1
            else:
                row.email_status, row.email_due_at = "pending", now + retry_delay(row.attempts)
                result.retrying += 1


def _message_id(config: Mapping, keys: list[str]) -> str:
    """The same for the same notifications: a mail system that sees a message twice can tell."""
    domain = (config.get("MAIL_FROM") or "crisis-ct@localhost").rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(chr(10).join(keys).encode()).hexdigest()[:40]}@{domain}>"


def send_due(database: Database, config: Mapping, rules: NotificationRules, *, worker_id: str,
             now: datetime | None = None, should_stop=lambda: False) -> SendResult:
    result = SendResult()
    server = smtp_server(config)
    if server is None:
        return result  # without mail, notifications live in the app only; emails wait
    now = now or utcnow()
    result.failed += _give_up_stale(database, now)
    for user_id, ids in _due_by_person(database, now).items():
        if should_stop():
            break
        taken = _take(database, ids, worker_id, now)
        if not taken:
            continue  # another worker has them
        with database.session() as session:
            user = session.get(User, user_id)
            if not user.is_active:  # deactivated since: no mail to an account that cannot sign in
                session.execute(sa.update(N).where(N.id.in_(taken), N.sending_by == worker_id)
                                .values(email_status="skip").execution_options(synchronize_session=False))
                continue
            rows = session.scalars(sa.select(N).where(N.id.in_(taken)).order_by(N.created_at, N.id)).all()
            language = language_of(user.preferred_language, user.languages)
            subject, body = email_text(rules, rows, language, config.get("PUBLIC_URL") or "")
            address, keys = user.email, [row.idempotency_key for row in rows]
        message = build_message(config, address, subject, body, message_id=_message_id(config, keys))
        error = None
        try:
            deliver(server, message)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{exc.__class__.__name__}: {exc}"
        _finish(database, taken, worker_id, now, error, result)
    return result
