"""`crisis-ct jobs`: the scheduled jobs (last run, duration, outcome, next run), the
workers' heartbeats and the scoring queue with its parked sites."""
from __future__ import annotations

import click
import sqlalchemy as sa
from crisis_ct.cli_support import AppGroup, with_app

from crisis_ct.cli_support import fail
from crisis_ct.jobs.status import BackgroundState, background_state
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import database


@click.group("jobs", cls=AppGroup, invoke_without_command=True)
@click.pass_context
@with_app
def jobs_group(context) -> None:
    """The background jobs and the scoring queue (no sub-command: list them)."""
    if context.invoked_subcommand is None:
        _print_state()


@jobs_group.command("list")
def list_command() -> None:
    """List the jobs, the workers and the scoring queue."""
    _print_state()


def _print_state() -> None:
    with database().session() as session:
        for line in state_lines(background_state(session, utcnow())):
            click.echo(line)


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def state_lines(state: BackgroundState) -> list[str]:
    lines = [f"{'job':<22} {'last run (UTC)':<20} {'took':>8} {'outcome':<8} {'next run (UTC)':<20} schedule"]
    if not state.jobs:
        lines.append("(no job has been scheduled yet: start `crisis-ct worker`)")
    for job in state.jobs:
        took = f"{job.last_duration_ms / 1000:.1f}s" if job.last_duration_ms is not None else "-"
        outcome = job.last_outcome or "-"
        if job.running_on:
            outcome = f"running on {job.running_on}"
        lines.append(f"{job.name:<22} {_when(job.last_started_at):<20} {took:>8} {outcome:<8} "
                     f"{_when(job.next_run_at):<20} {job.schedule}")
        if job.last_outcome == "failed":
            lines.append(f"  failed {job.consecutive_failures} time(s) in a row: {job.last_error}")
        elif job.last_summary:
            lines.append(f"  {job.last_summary}")
    age = "never" if state.heartbeat_age_s is None else f"{state.heartbeat_age_s:.0f} s ago"
    lines.append(f"workers: {state.live_workers} alive; newest heartbeat {age}")
    queue = state.queue
    lines.append(f"scoring queue: {queue.waiting} waiting, {queue.retrying} retrying, {queue.parked_total} parked")
    for entry in queue.parked:
        lines.append(f"  parked site {entry.site_id}: {entry.attempts} failures, next try {_when(entry.retry_at)}: "
                     f"{entry.last_error}")
    problems = state.problems()
    lines.append("status: " + ("; ".join(problems) if problems else "ok"))
    return lines


@jobs_group.command("kobo-sync-every")
@click.argument("asset_uid")
@click.argument("minutes", type=click.IntRange(min=0))
def kobo_sync_every(asset_uid, minutes) -> None:
    """How often the worker syncs one Kobo project (0: the default, CRISIS_CT_KOBO_SYNC_MINUTES)."""
    from crisis_ct.kobo.models import KoboAsset

    with database().session() as session:
        asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == asset_uid))
        if asset is None:
            fail(f"no Kobo project {asset_uid} is connected")
        asset.sync_every_minutes = minutes or None
    click.echo(f"{asset_uid}: synced every {minutes or 'default'} minute(s)")
