"""The tasks' scheduled jobs (crisis_ct.jobs.registry)."""
from __future__ import annotations

from crisis_ct.jobs.registry import JobContext, daily, every, scheduled


@scheduled("tasks.expire_claims", every(minutes=1))
def release_expired_claims(context: JobContext) -> str | None:
    from crisis_ct.tasks.claims import expire_claims

    with context.database.session() as session:
        released = expire_claims(session, now=context.now)
    return f"released {released} expired claim(s)" if released else None


@scheduled("tasks.prune_client_requests", daily(hour=3, minute=10))
def prune_applied_client_requests(context: JobContext) -> str | None:
    """The ids of offline notes and completions applied long ago (client_requests.KEEP_DAYS)."""
    from crisis_ct.tasks.client_requests import prune_applied

    with context.database.session() as session:
        pruned = prune_applied(session, now=context.now)
    return f"forgot {pruned} applied client request id(s)" if pruned else None
