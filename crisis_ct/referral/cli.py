"""`crisis-ct referral`: the service-mapping sheet in and out, and the providers to re-verify,
from the command line (the same functions as the API and the pages)."""
from __future__ import annotations

from pathlib import Path

import click

from crisis_ct.cli_support import AppGroup, cli_actor, fail
from crisis_ct.geography.operations import OperationError, get_operation
from crisis_ct.web_db import database


@click.group("referral", cls=AppGroup)
def referral_group() -> None:
    """The referral directory: import and export the service-mapping sheet, providers to verify."""


def _operation(session, code: str):
    try:
        return get_operation(session, code)
    except OperationError as exc:
        fail(str(exc))


@referral_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--operation", "operation_code", required=True)
def referral_import(path: Path, operation_code: str):
    """Import a CSV/XLSX service-mapping sheet: all rows or none; each bad row and field is named."""
    from crisis_ct.referral.directory import import_rows
    from crisis_ct.referral.service_types import service_types
    from crisis_ct.referral.sheet import SheetUnreadable, read_sheet
    from crisis_ct.timeutil import utcnow

    try:
        rows = read_sheet(path.read_bytes(), path.name)
    except SheetUnreadable as exc:
        fail(f"{path}: {exc}")
    with database().session() as session:
        operation = _operation(session, operation_code)
        result = import_rows(session, cli_actor(), operation.id, rows, types=service_types(),
                             today=utcnow().date(), source=str(path))
        if not result.ok:
            session.rollback()
            for problem in result.errors:
                click.echo(f"{path}: row {problem['row']}: {problem['field']}: {problem['message']}", err=True)
            fail(f"nothing imported: {len(result.errors)} problem(s)")
    click.echo(f"imported {result.created} new, {result.updated} updated")


@referral_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--operation", "operation_code", required=True)
def referral_export(path: Path, operation_code: str):
    """Write the directory as a service-mapping sheet with HXL tags (.csv or .xlsx by the name)."""
    from crisis_ct.referral.directory import sheet_rows
    from crisis_ct.referral.sheet import write_csv, write_xlsx

    with database().session() as session:
        rows = sheet_rows(session, [_operation(session, operation_code).id])
    path.write_bytes(write_xlsx(rows) if path.suffix.lower() == ".xlsx" else write_csv(rows))
    click.echo(f"wrote {len(rows)} providers to {path}")


@referral_group.command("stale")
@click.option("--operation", "operation_code", required=True)
def referral_stale(operation_code: str):
    """Providers never verified or not verified for stale_after_days (forms/service_types.yaml)."""
    from crisis_ct.referral.places import stale_providers
    from crisis_ct.referral.service_types import service_types
    from crisis_ct.timeutil import utcnow

    with database().session() as session:
        operation = _operation(session, operation_code)
        for view in stale_providers(session, [operation.id], utcnow().date(), service_types().stale_after_days):
            verified = view.last_verified_on.isoformat() if view.last_verified_on else "never"
            click.echo(f"{view.code}\t{view.organisation}\t{verified}")
