"""The accounts' scheduled jobs (crisis_ct.jobs.registry)."""
from __future__ import annotations

from crisis_ct.jobs.registry import JobContext, every, scheduled


@scheduled("accounts.purge_sessions", every(hours=1))
def purge_ended_sessions(context: JobContext) -> str | None:
    """Rows of web sessions no cookie can use any more (ended, idle or past their limit)."""
    from crisis_ct.accounts import web_sessions
    from crisis_ct.accounts.auth import session_policy

    with context.database.session() as session:
        purged = web_sessions.purge_ended(session, now=context.now, policy=session_policy())
    return f"purged {purged} ended session(s)" if purged else None
