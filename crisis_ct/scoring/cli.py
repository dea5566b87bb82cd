from __future__ import annotations

import click
import sqlalchemy as sa

from crisis_ct.cli_support import with_app, fail, progress_bar
from crisis_ct.geography.models import Operation
from crisis_ct.kobo.models import Submission
from crisis_ct.scoring.service import rescore_aged, score_all
from crisis_ct.web_db import database


@click.command("score")
@with_app
# --all is what the command always does; kept so scripts that pass it keep working.
@click.option("--all", "_score_everything", is_flag=True, hidden=True)
@click.option("--aged", "aged_only", is_flag=True,
              help="Only what time changed: sites whose recency class moved, and their areas (run daily)")
@click.option("--operation", "operation_code", help="Only this operation")
def score_command(_score_everything, aged_only, operation_code):
    """Recompute every site's and area's risk from the stored submissions."""
    if aged_only:
        with database().session() as session:
            click.echo(f"{rescore_aged(session)} sites re-scored as their data aged")
        return
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
                count = score_all(session, operation.id, progress=advance, parallel=True)
            click.echo(f"{operation.code}: {count} sites scored")
