"""The quarantine empties itself: submissions whose cause has gone are replayed by the
worker, with no one running `crisis-ct kobo replay`.

Causes it watches, each checked with a query per round for the whole batch:
- `unknown_asset`: the project is now connected, to the row's own operation;
- `unknown_site`: the site id it names now exists in the operation (or, for one naming no
  site, a site of the operation was imported or moved since the last attempt);
- `unknown_form_version`: its version is now registered, another version was registered
  since the last attempt (its answers may fit that one now), or the project has a server
  to fetch it from;
- `version_pending`: Kobo did not give the version in time; asked again.
A row whose cause may have gone but which needs Kobo is tried again with a growing wait
(attempts and last attempt, kept on the row), so a Kobo that stays down is not hammered.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.models import Site
from crisis_ct.kobo.access import KoboAccess, app_access, is_connected
from crisis_ct.kobo.ingest import QUARANTINED
from crisis_ct.kobo.models import KoboAsset, KoboFormVersion, QuarantinedSubmission
from crisis_ct.kobo.operations import named_site, replay
from crisis_ct.kobo.versions import UNKNOWN_FORM_VERSION, VERSION_PENDING
from crisis_ct.timeutil import as_utc

__all__ = ["AUTO_REASONS", "replay_resolved"]

AUTO_REASONS = ("unknown_asset", "unknown_site", UNKNOWN_FORM_VERSION, VERSION_PENDING)
BATCH = 200
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
ACTOR = Actor.system("auto-replay")


def replay_resolved(session: Session, now: datetime, *, access: KoboAccess | None = None,
                    match_distance_m: float | None = None, limit: int = BATCH) -> int:
    """Replay the pending quarantined submissions whose cause has gone, in the caller's
    transaction; returns how many were stored. `access`: how to reach Kobo for pending
    versions (default: the running app's, with the worker's patience; none outside an app)."""
    rows = _next_rows(session, limit)
    if not rows:
        return 0
    if access is None:
        access = app_access(timeout_s=30.0, retries=1)
    facts = _Facts(session, rows)
    ready = [row for row in rows if facts.cause_gone(row, now, can_fetch=access is not None)]
    if not ready:
        return 0
    results = replay(session, ACTOR, ready, match_distance_m=_distance(match_distance_m), access=access)
    return sum(result.outcome.status != QUARANTINED for result in results)


# Where the next call's scan starts (per process): a quarantine longer than one batch is
# looked at in turn, not only its first rows again and again.
_scan_from = [0]


def _next_rows(session: Session, limit: int) -> list[QuarantinedSubmission]:
    def scan(after: int, before: int | None, count: int) -> list[QuarantinedSubmission]:
        query = sa.select(QuarantinedSubmission).where(
            QuarantinedSubmission.status == "pending", QuarantinedSubmission.reason_code.in_(AUTO_REASONS),
            QuarantinedSubmission.id > after)
        if before is not None:
            query = query.where(QuarantinedSubmission.id <= before)
        return list(session.scalars(query.order_by(QuarantinedSubmission.id).limit(count)))

    start = _scan_from[0]
    rows = scan(start, None, limit)
    if len(rows) < limit and start > 0:  # wrap around to the rows before the starting point
        rows += scan(0, start, limit - len(rows))
    _scan_from[0] = rows[-1].id if len(rows) == limit else 0
    return rows


def _distance(value: float | None) -> float:
    if value is not None:
        return value
    from flask import current_app, has_app_context

    return float(current_app.config.get("SITE_MATCH_DISTANCE_M", 500.0)) if has_app_context() else 500.0


class _Facts:
    """What the batch's causes depend on, read once for the batch."""

    def __init__(self, session: Session, rows: list[QuarantinedSubmission]):
        uids = {row.asset_uid for row in rows if row.asset_uid}
        self.assets = {asset.asset_uid: asset for asset in session.scalars(
            sa.select(KoboAsset).where(KoboAsset.asset_uid.in_(uids)))} if uids else {}
        asset_ids = [asset.id for asset in self.assets.values()]
        self.versions: dict[int, set[str]] = {}
        self.newest_version: dict[int, datetime] = {}
        if asset_ids:
            for asset_id, version, added_at in session.execute(
                    sa.select(KoboFormVersion.asset_id, KoboFormVersion.version, KoboFormVersion.added_at)
                    .where(KoboFormVersion.asset_id.in_(asset_ids))):
                self.versions.setdefault(asset_id, set()).add(version)
                added_at = as_utc(added_at)
                if asset_id not in self.newest_version or added_at > self.newest_version[asset_id]:
                    self.newest_version[asset_id] = added_at
        site_rows = [row for row in rows if row.reason_code == "unknown_site"]
        operations = {row.operation_id for row in site_rows}
        codes = {code for row in site_rows if (code := _site_code(row))}
        self.sites = set(session.execute(sa.select(Site.operation_id, Site.site_code).where(
            Site.operation_id.in_(operations), Site.site_code.in_(codes))).all()) if codes else set()
        self.sites_changed = dict(session.execute(
            sa.select(Site.operation_id, sa.func.max(Site.updated_at)).where(Site.operation_id.in_(operations))
            .group_by(Site.operation_id)).all()) if operations else {}

    def cause_gone(self, row: QuarantinedSubmission, now: datetime, *, can_fetch: bool) -> bool:
        asset = self.assets.get(row.asset_uid)
        if asset is None or asset.operation_id != row.operation_id:
            return False  # also for unknown_asset: connected to the row's operation, or not at all
        if row.reason_code == "unknown_asset":
            return True
        last = as_utc(row.last_attempt_at or row.received_at)
        if row.reason_code == "unknown_site":
            code = _site_code(row)
            if code:
                return (row.operation_id, code) in self.sites
            changed = self.sites_changed.get(row.operation_id)
            return changed is not None and as_utc(changed) > last
        version = row.raw.get("__version__") if isinstance(row.raw, Mapping) else None
        if version in self.versions.get(asset.id, ()):
            return True
        if row.reason_code == UNKNOWN_FORM_VERSION and self.newest_version.get(asset.id, last) > last:
            return True
        return can_fetch and is_connected(asset) and now - last >= _wait(row.attempts)


def _site_code(row: QuarantinedSubmission) -> str | None:
    details = row.details or {}
    code = details.get("site_id") if isinstance(details, Mapping) else None
    return (code or named_site(row.raw) or "").strip() or None


def _wait(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(0, (attempts or 1) - 1)), LONGEST_WAIT)
