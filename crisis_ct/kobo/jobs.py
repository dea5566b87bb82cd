"""Kobo's scheduled jobs (crisis_ct.jobs.registry): pull sync of every project with a
server, each at its own interval (`kobo_assets.sync_every_minutes`, else
CRISIS_CT_KOBO_SYNC_MINUTES, default 15)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crisis_ct.jobs.registry import JobContext, every, scheduled
from crisis_ct.kobo.models import KoboAsset

DEFAULT_SYNC_MINUTES = 15


def assets_due(session, now: datetime, default_minutes: float) -> list[str]:
    """Projects with a server whose last sync is older than their interval (or never ran)."""
    rows = session.execute(sa.select(KoboAsset.asset_uid, KoboAsset.last_sync_at, KoboAsset.sync_every_minutes)
                           .where(KoboAsset.server_url.is_not(None)).order_by(KoboAsset.asset_uid))
    return [uid for uid, last, minutes in rows
            if last is None or last + timedelta(minutes=minutes or default_minutes) <= now]


@scheduled("kobo.sync", every(minutes=1))
def sync_due_projects(context: JobContext) -> str | None:
    from crisis_ct.kobo.secrets import TokenError, token_cipher
    from crisis_ct.kobo.sync import FAILED, client_for, default_client_factory, sync_asset

    config = current_app.config
    with context.database.session() as session:
        due = assets_due(session, context.now, float(config.get("KOBO_SYNC_MINUTES") or DEFAULT_SYNC_MINUTES))
    if not due:
        return None
    factory = current_app.extensions.get("kobo_client_factory", default_client_factory)

    def cipher():
        return token_cipher(secret_key=config.get("SECRET_KEY"), token_key=config.get("KOBO_TOKEN_KEY"))

    lines, failed = [], 0
    for uid in due:
        if context.should_stop():
            break
        try:
            client = client_for(context.database, uid, factory, cipher)
        except TokenError as exc:
            lines.append(f"{uid}: failed; {exc}")
            failed += 1
            continue
        result = sync_asset(context.database, uid, client,
                            match_distance_m=float(config.get("SITE_MATCH_DISTANCE_M", 500.0)))
        lines.append(result.line())
        failed += result.status == FAILED
    # The synced submissions queued their sites: the scoring.queue job re-scores them.
    if failed:
        raise RuntimeError(f"{failed} of {len(due)} project(s) failed to sync: " + " | ".join(lines))
    return " | ".join(lines)


@scheduled("kobo.auto_replay", every(seconds=20))
def replay_resolved_quarantine(context: JobContext) -> str | None:
    """Quarantined submissions whose cause has gone (version registered, site imported,
    project connected) are stored without anyone asking."""
    from crisis_ct.kobo.auto_replay import replay_resolved

    with context.database.session() as session:
        stored = replay_resolved(session, context.now)
    return f"stored {stored} quarantined submission(s)" if stored else None
