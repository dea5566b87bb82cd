"""Each person's choices (channels, immediate or daily digest, quiet hours in their time
zone, where new tasks interest them) and when, given those, an email may go out.

Plain functions: `email_due_at` is the whole timing policy and knows nothing of storage."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.notifications.models import Notification, NotificationPreference
from crisis_ct.timeutil import as_utc

DELIVERIES = ("immediate", "digest")


class PreferencesError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Preferences:
    in_app: bool = True
    email: bool = True
    delivery: str = "immediate"
    digest_hour: int = 7
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str = "UTC"
    areas: tuple[str, ...] = field(default_factory=tuple)
    near_lon: float | None = None
    near_lat: float | None = None
    radius_km: float | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        data["areas"] = list(self.areas)
        return data


DEFAULT_PREFERENCES = Preferences()
_FIELDS = tuple(Preferences.__dataclass_fields__)


def _clock(name: str, value) -> time | None:
    if value is None:
        return None
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise PreferencesError(name, "must be a time HH:MM") from exc


def checked(preferences: Preferences) -> Preferences:
    """The preferences, or PreferencesError naming the first wrong field."""
    p = preferences
    if p.delivery not in DELIVERIES:
        raise PreferencesError("delivery", f"must be one of {', '.join(DELIVERIES)}")
    if not 0 <= p.digest_hour <= 23:
        raise PreferencesError("digest_hour", "must be an hour from 0 to 23")
    if (p.quiet_start is None) != (p.quiet_end is None):
        raise PreferencesError("quiet_start", "quiet hours need both a start and an end")
    _clock("quiet_start", p.quiet_start), _clock("quiet_end", p.quiet_end)
    try:
        ZoneInfo(p.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PreferencesError("timezone", "must be a time zone such as Africa/Kinshasa or UTC") from exc
    near = (p.near_lon, p.near_lat, p.radius_km)
    if any(v is not None for v in near) and any(v is None for v in near):
        raise PreferencesError("radius_km", "a radius needs near_lon, near_lat and radius_km together")
    if p.radius_km is not None and not (0 < p.radius_km <= 2000 and -180 <= p.near_lon <= 180
                                        and -90 <= p.near_lat <= 90):
        raise PreferencesError("radius_km", "needs a longitude, a latitude and 0 < radius_km <= 2000")
    if len(p.areas) > 200 or any(not isinstance(a, str) or not 0 < len(a) <= 40 for a in p.areas):
        raise PreferencesError("areas", "must be a list of at most 200 P-codes")
    return p


def _in_quiet_hours(p: Preferences, local: datetime) -> bool:
    start, end = _clock("quiet_start", p.quiet_start), _clock("quiet_end", p.quiet_end)
    if start is None or start == end:
        return False
    now = local.time().replace(second=0, microsecond=0)
    return start <= now < end if start < end else (now >= start or now < end)


def _after_quiet_hours(p: Preferences, local: datetime) -> datetime:
    end = _clock("quiet_end", p.quiet_end)
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return candidate if candidate > local else candidate + timedelta(days=1)


def email_due_at(p: Preferences, moment: datetime, *, urgent: bool) -> datetime:
    """When an email about something that happened at `moment` may be sent: at once; at the
    next digest hour (normal notifications of people who chose the digest); and never
    within quiet hours (then at their end). Local time in the person's time zone."""
    zone = ZoneInfo(p.timezone)
    local = as_utc(moment).astimezone(zone)
    if p.delivery == "digest" and not urgent:
        digest = local.replace(hour=p.digest_hour, minute=0, second=0, microsecond=0)
        local = digest if digest >= local else digest + timedelta(days=1)
    if _in_quiet_hours(p, local):
        local = _after_quiet_hours(p, local)
    return as_utc(local)


# --- storage ------------------------------------------------------------------------------

def load(session: Session, user_id: int) -> Preferences:
    row = session.get(NotificationPreference, user_id)
    return _from_row(row) if row is not None else DEFAULT_PREFERENCES


def load_many(session: Session, user_ids) -> dict[int, Preferences]:
    ids = list(set(user_ids))
    rows = session.scalars(sa.select(NotificationPreference).where(NotificationPreference.user_id.in_(ids))) \
        if ids else []
    found = {row.user_id: _from_row(row) for row in rows}
    return {user_id: found.get(user_id, DEFAULT_PREFERENCES) for user_id in ids}


def _from_row(row: NotificationPreference) -> Preferences:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["areas"] = tuple(values["areas"] or ())
    return Preferences(**values)


def save(session: Session, user_id: int, changes: dict, *, now: datetime) -> Preferences:
    """Applies `changes` (any of the fields) to the person's preferences; the emails still
    waiting get their time again under the new choices."""
    unknown = sorted(set(changes) - set(_FIELDS))
    if unknown:
        raise PreferencesError(unknown[0], "is not a preference")
    if "areas" in changes:
        changes = {**changes, "areas": tuple(changes["areas"] or ())}
    preferences = checked(replace(load(session, user_id), **changes))
    row = session.get(NotificationPreference, user_id) or NotificationPreference(user_id=user_id)
    for name, value in preferences.as_json().items():
        setattr(row, name, value)
    row.updated_at = now
    session.add(row)
    _reschedule_pending(session, user_id, preferences, now)
    return preferences


def _reschedule_pending(session: Session, user_id: int, p: Preferences, now: datetime) -> None:
    pending = session.scalars(sa.select(Notification).where(
        Notification.user_id == user_id, Notification.email_status == "pending"))
    for row in pending:
        if not p.email:
            row.email_status = "skip"
        else:
            row.email_due_at = max(email_due_at(p, row.created_at, urgent=row.priority == "urgent"),
                                   email_due_at(p, now, urgent=row.priority == "urgent"))
