from __future__ import annotations

import time

import click
from flask.cli import AppGroup, with_appcontext
import sqlalchemy as sa

from crisis_ct.cli_support import fail, progress_bar
from crisis_ct.geography.models import Operation
from crisis_ct.kobo.models import Submission
from crisis_ct.scoring.service import process_queue, score_all
from crisis_ct.web_db import database


@click.command("score")
@with_appcontext
@click.option("--all", "score_everything", is_flag=True, required=True, help="Recompute every site and area")
@click.option("--operation", "operation_code", help="Only this operation")
def score_command(score_everything, operation_code):
    """Recompute every site's and area's risk from the stored submissions."""
    with database().session() as session:
        query = sa.select(Operation)
        if operation_code:
            query = query.where(Operation.code == operation_code)
        operations = session.scalars(query).all()
        if operation_code and not operations:
            fail(f"no operation with code '{operation_code}'")
        for operation in operations:
            sites = session.scalar(sa.select(sa.func.count(sa.distinct(Submission.site_id)))
                                   .where(Submission.operation_id == operation.id))
            with progress_bar(sites, f"scoring {operation.code}") as advance:
                count = score_all(session, operation.id, progress=advance)
            click.echo(f"{operation.code}: {count} sites scored")


@click.group("scoring", cls=AppGroup)
def scoring_group() -> None:
    """The scoring queue."""


@scoring_group.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between queue checks")
@click.option("--once", is_flag=True, help="Drain the queue once and stop")
def worker(interval, once):
    """Re-score sites whose submissions changed (the webhook queues them)."""
    while True:
        with database().session() as session:
            count = process_queue(session)
        if count:
            click.echo(f"re-scored {count} site(s)")
        if once:
            return
        time.sleep(interval)
