"""Events coordinators watch for: a site reaching a high phase, an admin area becoming a
hot-spot, the quarantine growing past a threshold, a Kobo project whose sync or webhook has
been failing for a day. Found in the stored scores and Kobo state, like detect_tasks."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.kobo.models import KoboAsset, QuarantinedSubmission, Submission
from crisis_ct.notifications.events import MAX_EVENTS_PER_KIND, Event, area_label, area_place, site_place
from crisis_ct.notifications.rules import NotificationRule
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.timeutil import as_utc


def _crossings(session: Session, table, key_column, since: datetime, now: datetime, value, reached) -> list:
    """Scores computed in the window whose value reached the mark while the score before
    them (of the same place) had not: (score id, place id) pairs."""
    recent = sa.select(key_column).where(table.computed_at > since, table.computed_at <= now)
    previous = sa.func.lag(value).over(partition_by=key_column, order_by=(table.computed_at, table.id))
    ordered = (sa.select(table.id.label("score_id"), key_column.label("place_id"), table.computed_at,
                         value.label("value"), previous.label("previous"))
               .where(key_column.in_(recent)).subquery())
    rows = session.execute(sa.select(ordered).where(ordered.c.computed_at > since,
                                                    ordered.c.computed_at <= now)).all()
    crossings = [(row.score_id, row.place_id) for row in rows
                 if reached(row.value) and (row.previous is None or not reached(row.previous))]
    return crossings[:MAX_EVENTS_PER_KIND]  # a first scoring must not load every site


def sites_reaching_phase(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    """Only the admin area is said, never the site, its phase or its answers."""
    minimum = rule.settings["min_phase"]
    crossings = _crossings(session, SiteRiskScore, SiteRiskScore.site_id, since, now, SiteRiskScore.phase,
                           lambda phase: phase is not None and phase >= minimum)
    events = []
    for score_id, site_id in crossings:
        site = session.get(Site, site_id)
        place, label = site_place(session, site)
        events.append(Event(kind=rule.kind, key=f"{rule.kind}:score:{score_id}", operation_id=site.operation_id,
                            place=place, payload={"area": label, "phase": str(minimum), "link": f"/sites/{site.site_code}"}))
    return events


def areas_becoming_hotspots(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    crossings = _crossings(session, AdminAreaRiskScore, AdminAreaRiskScore.admin_area_id, since, now,
                           AdminAreaRiskScore.hotspot, bool)
    events = []
    for score_id, area_id in crossings:
        area = session.get(AdminArea, area_id)
        events.append(Event(kind=rule.kind, key=f"{rule.kind}:score:{score_id}", operation_id=area.operation_id,
                            place=area_place(session, area),
                            payload={"area": area_label(area), "link": f"/areas/{area.pcode}"}))
    return events


def quarantine_growing(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    """Once a day per operation while its pending quarantine is at or over the threshold."""
    threshold = rule.settings["threshold"]
    rows = session.execute(sa.select(QuarantinedSubmission.operation_id, sa.func.count())
                           .where(QuarantinedSubmission.status == "pending",
                                  QuarantinedSubmission.operation_id.is_not(None))
                           .group_by(QuarantinedSubmission.operation_id)).all()
    return [Event(kind=rule.kind, key=f"{rule.kind}:operation:{operation_id}:{now:%Y-%m-%d}",
                  operation_id=operation_id, payload={"count": str(count), "link": "/dashboard/quarantine"})
            for operation_id, count in rows if count >= threshold]


def kobo_syncs_failing(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    """A project whose sync has failed without a success for `after_hours`; once per streak."""
    after = timedelta(hours=rule.settings["after_hours"])
    events = []
    for asset in session.scalars(sa.select(KoboAsset).where(KoboAsset.last_sync_status == "failed")):
        started = (asset.last_sync_summary or {}).get("failing_since")
        try:
            failing_since = as_utc(datetime.fromisoformat(started)) if started else None
        except ValueError:
            failing_since = None
        if failing_since is None or now - failing_since < after:
            continue
        events.append(Event(kind=rule.kind, key=f"{rule.kind}:{asset.asset_uid}:{failing_since:%Y%m%d%H%M%S}",
                            operation_id=asset.operation_id,
                            payload={"project": asset.name or asset.asset_uid, "link": "/dashboard"}))
    return events


def kobo_hooks_failing(session: Session, rule: NotificationRule, since: datetime, now: datetime) -> list[Event]:
    """A project with a REST Service from which, for `after_hours`, submissions arrived only
    through the sync: the webhook is not delivering. Once a day while it lasts."""
    start = now - timedelta(hours=rule.settings["after_hours"])
    counts = (sa.select(Submission.asset_id,
                        sa.func.sum(sa.case((Submission.received_via == "sync", 1), else_=0)).label("synced"),
                        sa.func.sum(sa.case((Submission.received_via == "webhook", 1), else_=0)).label("hooked"))
              .where(Submission.created_at > start).group_by(Submission.asset_id).subquery())
    rows = session.execute(sa.select(KoboAsset, counts.c.synced).join(counts, counts.c.asset_id == KoboAsset.id)
                           .where(KoboAsset.hook_uid.is_not(None), counts.c.synced > 0, counts.c.hooked == 0)).all()
    return [Event(kind=rule.kind, key=f"{rule.kind}:{asset.asset_uid}:{now:%Y-%m-%d}", operation_id=asset.operation_id,
                  payload={"project": asset.name or asset.asset_uid, "link": "/dashboard"})
            for asset, _synced in rows]
