from __future__ import annotations

from pathlib import Path

import click

from crisis_ct.cli_support import AppGroup, cli_actor, fail, progress_bar
from crisis_ct.geography.importers import AreaFields, GeoImportError, read_admin_areas, read_sites
from crisis_ct.geography.operations import (OperationError, create_operation, get_operation,
                                            import_admin_areas, import_sites, list_operations)
from crisis_ct.web_db import database


@click.group("operations", cls=AppGroup)
def operations_group() -> None:
    """Operations (one humanitarian response each)."""


@operations_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--country", "country_iso3", required=True, help="ISO 3166 alpha-3 country code")
@click.option("--languages", default="en,fr", show_default=True)
def operations_add(code, name, country_iso3, languages):
    """Add an operation."""
    try:
        with database().session() as session:
            create_operation(session, cli_actor(), code, name, country_iso3,
                             [l.strip() for l in languages.split(",") if l.strip()])
    except OperationError as exc:
        fail(str(exc))
    click.echo(f"created operation {code}")


# The name it had first; scripts written for it keep working.
operations_group.add_command(click.Command("create", params=operations_add.params, callback=operations_add.callback,
                                           help=operations_add.help, hidden=True))


@operations_group.command("list")
def operations_list():
    """Every operation: code, country, name, languages, sites and people."""
    with database().session() as session:
        for row in list_operations(session):
            click.echo(f"{row.code}\t{row.country_iso3}\t{row.name}\t{','.join(row.languages)}\t"
                       f"{row.sites} sites\t{row.people} people")


@click.group("geo", cls=AppGroup)
def geo_group() -> None:
    """Admin boundaries and sites."""


@geo_group.command("import-areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--level", required=True, type=click.IntRange(1, 5))
@click.option("--operation", "operation_code", required=True, help="The operation the data belongs to")
@click.option("--pcode-field", help="Default ADM{N}_PCODE")
@click.option("--name-en-field", help="Default ADM{N}_EN")
@click.option("--name-fr-field", help="Default ADM{N}_FR")
@click.option("--parent-field", help="Default ADM{N-1}_PCODE")
def import_areas(file, level, operation_code, pcode_field, name_en_field, name_fr_field, parent_field):
    """Import admin areas of one level from a COD-AB style GeoJSON (re-import updates)."""
    defaults = AreaFields.for_level(level)
    fields = AreaFields(pcode_field or defaults.pcode, name_en_field or defaults.name_en,
                        name_fr_field or defaults.name_fr, parent_field or defaults.parent_pcode)
    try:
        rows = read_admin_areas(file, level, fields)
        with database().session() as session:
            summary = import_admin_areas(session, cli_actor(), get_operation(session, operation_code), rows,
                                         source=str(file))
    except (GeoImportError, OperationError) as exc:
        fail(f"{exc}\nnothing was imported")
    click.echo(f"admin level {level}: {summary.created} created, {summary.updated} updated")


@geo_group.command("import-sites")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--operation", "operation_code", required=True, help="The operation the data belongs to")
def import_sites_command(file, operation_code):
    """Import sites from a DTM-style CSV or a GeoJSON of points (re-import updates)."""
    try:
        rows = list(read_sites(file))
        with database().session() as session, progress_bar(len(rows), "sites") as advance:
            summary = import_sites(session, cli_actor(), get_operation(session, operation_code), rows,
                                   source=str(file), progress=advance)
    except (GeoImportError, OperationError) as exc:
        fail(f"{exc}\nnothing was imported")
    for warning in summary.warnings[:20]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"sites: {summary.created} created, {summary.updated} updated")
