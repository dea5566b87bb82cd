"""`crisis-ct tasks …`: release lapsed claims, list tasks."""
from __future__ import annotations

import click
import sqlalchemy as sa

from crisis_ct.cli_support import AppGroup, fail
from crisis_ct.geography.models import Operation
from crisis_ct.tasks import claims, queries
from crisis_ct.tasks.service import catalogues
from crisis_ct.tasks.states import STATES
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import database


@click.group("tasks", cls=AppGroup)  # AppGroup: every command runs in the app context
def tasks_group() -> None:
    """Mitigation tasks and their claims."""


@tasks_group.command("expire")
def tasks_expire() -> None:
    """Release every claim past its expiry (run it from cron, e.g. every 10 minutes)."""
    with database().session() as session:
        count = claims.expire_claims(session, now=utcnow())
    click.echo(f"released {count} expired claim(s)")


@tasks_group.command("list")
@click.option("--operation", "operation_code", help="Operation code; default: all operations")
@click.option("--status", type=click.Choice(STATES), help="Only tasks in this status")
@click.option("--limit", default=200, show_default=True)
def tasks_list(operation_code, status, limit) -> None:
    """One line per task: id, priority, status, rule, place, due date, holder."""
    now = utcnow()
    with database().session() as session:
        query = sa.select(Operation.id)
        if operation_code:
            query = query.where(Operation.code == operation_code)
        operation_ids = list(session.scalars(query))
        if operation_code and not operation_ids:
            fail(f"no operation with code '{operation_code}'")
        total, items = queries.list_tasks(session, operation_ids, queries.TaskFilters(status=status),
                                          priorities=list(catalogues()[0].priorities), now=now, limit=limit,
                                          offset=0)
    for item in items:
        place = item["site_id"] or item["pcode"] or "-"
        holder = item["claim"]["holder"]["display_name"] if item["claim"] else "-"
        review = " review" if item["needs_review"] else ""
        click.echo(f"{item['id']}\t{item['operation']}\t{item['priority']}\t{item['status']}{review}\t"
                   f"{item['rule_id']}\t{place}\t{item['due_at'][:16]}\t{holder}")
    click.echo(f"{len(items)} of {total} task(s)", err=True)
