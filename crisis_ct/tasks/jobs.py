"""The tasks' scheduled jobs (crisis_ct.jobs.registry)."""
from __future__ import annotations

from crisis_ct.jobs.registry import JobContext, every, scheduled


@scheduled("tasks.expire_claims", every(minutes=1))
def release_expired_claims(context: JobContext) -> str | None:
    from crisis_ct.tasks.claims import expire_claims

    with context.database.session() as session:
        released = expire_claims(session, now=context.now)
    return f"released {released} expired claim(s)" if released else None
