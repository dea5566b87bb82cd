"""The notifications' scheduled jobs (crisis_ct.jobs.registry): finding what to tell whom,
and mailing what is due."""
from __future__ import annotations

import os
import socket

from flask import current_app

from crisis_ct.jobs.registry import JobContext, every, scheduled


@scheduled("notifications.detect", every(minutes=1))
def detect_events(context: JobContext) -> str | None:
    from crisis_ct.notifications.detect import detect
    from crisis_ct.notifications.rules import notification_rules
    from crisis_ct.notifications.store import KEEP_DAYS, purge_old

    with context.database.session() as session:
        created = detect(session, notification_rules(), context.now)
        purged = purge_old(session, context.now)
    parts = [f"{created} new notification(s)"] if created else []
    parts += [f"removed {purged} older than {KEEP_DAYS} days"] if purged else []
    return "; ".join(parts) or None


# Every worker may mail at the same moment: each row is taken by one of them (delivery.py).
@scheduled("notifications.send", every(seconds=15), exclusive=False)
def send_emails(context: JobContext) -> str | None:
    from crisis_ct.notifications.delivery import send_due
    from crisis_ct.notifications.rules import notification_rules

    result = send_due(context.database, current_app.config, notification_rules(),
                      worker_id=f"{socket.gethostname()}:{os.getpid()}", should_stop=context.should_stop)
    if (result.retrying or result.failed) and not result.sent:
        # Nothing got through: the job counts as failing, so `crisis-ct jobs` and /healthz say so.
        raise RuntimeError(f"the mail server took nothing: {result.line()}")
    return result.line()
