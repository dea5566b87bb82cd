"""Scoring's scheduled jobs (crisis_ct.jobs.registry)."""
from __future__ import annotations

import sqlalchemy as sa

from crisis_ct.jobs.registry import JobContext, daily, every, scheduled


@scheduled("scoring.queue", every(seconds=2), exclusive=False)
def drain_scoring_queue(context: JobContext) -> str | None:
    """Re-score the queued sites, and the admin areas above them. Every worker drains at
    once: the queue shares itself out."""
    from crisis_ct.scoring.drain import drain_queue

    with context.database.session() as session:
        result = drain_queue(session, should_stop=context.should_stop, sleep=context.sleep)
    if not result.rescored and not result.failures and not result.areas:
        return None
    text = f"re-scored {result.rescored} site(s) and {result.areas} admin area(s)"
    if result.failures:
        text += f"; {len(result.failures)} failed ({len(result.parked)} parked)"
    return text


@scheduled("scoring.daily", daily(hour=2, minute=30))
def rescore_as_data_ages(context: JobContext) -> str:
    """Recency classes, area results and time-based rules change as data ages, without any
    new submission: once a day every site whose recency class has moved since it was scored
    (scoring.service.sites_with_stale_recency, what rescore_aged re-scores) goes through the
    queue again. Through the queue, not one big transaction: the drainers share it in small
    batches, so on SQLite no webhook waits for a whole re-score."""
    from crisis_ct.scoring.queue import enqueue_sites
    from crisis_ct.scoring.service import sites_with_stale_recency

    with context.database.session() as session:
        site_ids = sites_with_stale_recency(session, context.now.date())
        enqueue_sites(session, site_ids)
    return f"queued {len(site_ids)} site(s) whose data aged into another recency class"
