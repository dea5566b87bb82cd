"""`crisis-ct export DATASET`: the API's exports from the command line, for a named person
(`--as EMAIL`: exactly what that person would download) or under the public rules
(`--public`)."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from crisis_ct.accounts.auth import _load_principal
from crisis_ct.accounts.models import Membership, User
from crisis_ct.accounts.operations import normalise_email
from crisis_ct.accounts.principal import Principal
from crisis_ct.cli_support import fail, with_app
from crisis_ct.exports import products
from crisis_ct.exports.sources import ExportRefused
from crisis_ct.geography.models import Operation
from crisis_ct.languages import LANGUAGES
from crisis_ct.tasks import states
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import database


def principal_of(session, email: str) -> Principal:
    user = session.scalar(sa.select(User).where(User.email == normalise_email(email), User.is_active))
    if user is None:
        fail(f"no active user {email}")
    rows = session.execute(sa.select(Membership.operation_id, Membership.role, Operation.code)
                           .join(Operation, Operation.id == Membership.operation_id)
                           .where(Membership.user_id == user.id)).all()
    return _load_principal(user, "cli", rows)


@click.command("export")
@click.argument("dataset", type=click.Choice(products.DATASETS))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson"]), default="csv", show_default=True)
@click.option("--as", "email", help="Export what this person may see (their role's projection)")
@click.option("--public", is_flag=True, help="The public profile: admin 1/2 areas under domain.md §4.3's public rules")
@click.option("--operation", "operation_code", help="Operation code; default: all (of the person)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write; default: the export's own name in the current folder, '-' for stdout")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--level", type=int, help="admin-areas: only this admin level")
@click.option("--pcode", help="sites, tasks, 4w: only this admin area (any level)")
@click.option("--status", type=click.Choice(states.STATES), help="tasks: only this status")
@click.option("--priority", help="tasks: only this priority, e.g. P1")
@click.option("--site-id", help="tasks, submissions: only this site (code)")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="submissions: assessed on or after")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="submissions: assessed on or before")
@with_app
def export_command(dataset, fmt, email, public, operation_code, output, lang, level, pcode, status, priority, site_id,
                   since, until):
    """Write an export (sites, admin-areas, tasks, submissions, 4w) as CSV, XLSX or GeoJSON."""
    if bool(email) == bool(public):
        fail("say whose export it is: --as EMAIL, or --public")
    filters = _filters(dataset, level=level, pcode=pcode, status=status, priority=priority, site_id=site_id,
                       since=since.date() if since else None, until=until.date() if until else None)
    with database().session() as session:
        principal = principal_of(session, email) if email else None
        operations = _operations(session, principal, operation_code)
        request = products.ExportRequest(dataset, fmt, list(operations), list(operations.values()), public=public,
                                         lang=lang, filters=filters)
        try:
            export = products.build(session, principal, request, now=utcnow())
        except (ExportRefused, products.ExportError) as exc:
            fail(str(exc))
        target = sys.stdout.buffer if output == "-" else open(output or export.filename, "wb")
        try:
            for chunk in export.chunks:
                target.write(chunk)
        finally:
            if target is not sys.stdout.buffer:
                target.close()
    if output != "-":
        click.echo(f"wrote {output or export.filename}", err=True)


def _operations(session, principal: Principal | None, code: str | None) -> dict[int, str]:
    query = sa.select(Operation.id, Operation.code).order_by(Operation.code)
    if code:
        query = query.where(Operation.code == code)
    found = {op_id: op_code for op_id, op_code in session.execute(query)}
    if principal is not None:
        found = {op_id: op_code for op_id, op_code in found.items() if op_id in principal.roles}
    if not found:
        fail(f"no operation {code}" if code else "no operation to export")
    return found


def _filters(dataset: str, **given) -> dict:
    allowed = {"sites": ("pcode",), "admin-areas": ("level",), "tasks": ("status", "priority", "site_id", "pcode"),
               "submissions": ("site_id", "since", "until"), "4w": ("pcode",)}[dataset]
    unused = [name for name, value in given.items() if value is not None and name not in allowed]
    if unused:
        fail(f"{dataset} exports take no --{unused[0].replace('_', '-')}")
    return {name: given[name] for name in allowed if given[name] is not None}
