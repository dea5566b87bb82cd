"""One detection run: look at what happened since the last run (with an overlap), find who
each event is for, store one notification per person and event.

The worker runs it (job `notifications.detect`); it is also a plain function of a session
and a moment, which is how the tests drive it."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.orm import Session

from crisis_ct.notifications import detect_tasks, detect_watch, preferences, store
from crisis_ct.notifications.events import MAX_EVENTS_PER_KIND, Event
from crisis_ct.notifications.models import NotificationScan
from crisis_ct.notifications.recipients import Audience
from crisis_ct.notifications.rules import NotificationRule, NotificationRules

Detector = Callable[[Session, NotificationRule, datetime, datetime], list[Event]]

DETECTORS: dict[str, Detector] = {
    "task_new_match": detect_tasks.new_matching_tasks,
    "task_assigned": detect_tasks.tasks_assigned,
    "claim_expiring": detect_tasks.claims_expiring,
    "claim_expired": detect_tasks.claims_expired,
    "task_verified": detect_tasks.tasks_verified,
    "task_rejected": detect_tasks.tasks_rejected,
    "site_high_phase": detect_watch.sites_reaching_phase,
    "area_hotspot": detect_watch.areas_becoming_hotspots,
    "quarantine_growing": detect_watch.quarantine_growing,
    "kobo_sync_failing": detect_watch.kobo_syncs_failing,
    "kobo_hook_failing": detect_watch.kobo_hooks_failing,
}
# Conditions that hold for a while, keyed by day: looked at in the first run of each hour,
# not every minute (counting a day of submissions is not free).
HOURLY_KINDS = frozenset({"quarantine_growing", "kobo_sync_failing", "kobo_hook_failing"})
SCAN_NAME = "detect"
# Rows written by a transaction that began before the last run can appear after it: each run
# looks this far back again (their keys make the second look harmless).
SCAN_OVERLAP = timedelta(minutes=30)


def window_start(session: Session, rules: NotificationRules, now: datetime) -> datetime:
    scan = session.get(NotificationScan, SCAN_NAME)
    earliest = now - timedelta(hours=rules.lookback_hours)
    if scan is None:
        return earliest
    return max(scan.scanned_until - SCAN_OVERLAP, earliest)


def detect(session: Session, rules: NotificationRules, now: datetime, *, since: datetime | None = None) -> int:
    """Stores the notifications for events in (since, now]; returns how many were new."""
    scan = session.get(NotificationScan, SCAN_NAME)
    hourly_due = scan is None or since is not None or (scan.scanned_until.date(), scan.scanned_until.hour) != (
        now.date(), now.hour)
    since = window_start(session, rules, now) if since is None else since
    prefs: dict[int, preferences.Preferences] = {}

    def preferences_of(user_id: int) -> preferences.Preferences:
        if user_id not in prefs:
            prefs[user_id] = preferences.load(session, user_id)
        return prefs[user_id]

    audience = Audience(session, preferences_of)
    rows = []
    for kind, rule in rules.rules.items():
        if kind in HOURLY_KINDS and not hourly_due:
            continue
        for event in DETECTORS[kind](session, rule, since, now)[:MAX_EVENTS_PER_KIND]:
            for user_id in audience.recipients(rule, event):
                rows.append(store.notification_row(rule, event, user_id, preferences_of(user_id), now))
    created = store.record(session, rows)
    if scan is None:
        session.add(NotificationScan(name=SCAN_NAME, scanned_until=now))
    else:
        scan.scanned_until = max(scan.scanned_until, now)
    return created
