"""The demo operation: a fictional country with sites, for trying crisis-ct out."""
from __future__ import annotations

import click
import sqlalchemy as sa

from crisis_ct.cli_support import cli_actor
from crisis_ct.config import REPO_ROOT
from crisis_ct.geography.importers import read_admin_areas, read_sites
from crisis_ct.geography.models import Operation
from crisis_ct.geography.operations import create_operation, import_admin_areas, import_sites
from crisis_ct.web_db import database

DEMO_DIR = REPO_ROOT / "geo" / "demo"
DEMO_CODE = "demo"


def load_demo_geography(session, actor) -> Operation:
    operation = create_operation(session, actor, DEMO_CODE, "Demo operation (fictional country)", "XZZ", ["en", "fr"])
    for level in (1, 2, 3):
        path = DEMO_DIR / f"adm{level}.geojson"
        import_admin_areas(session, actor, operation, read_admin_areas(path, level), source=str(path))
    sites_path = DEMO_DIR / "sites.csv"
    import_sites(session, actor, operation, read_sites(sites_path), source=str(sites_path))
    return operation


@click.group("demo")
def demo_group() -> None:
    """The fictional demo operation."""


@demo_group.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when any operation exists already")
def demo_load(if_empty):
    """Load the demo operation (geography, sites)."""
    with database().session() as session:
        if session.scalar(sa.select(Operation.id).where(Operation.code == DEMO_CODE)) is not None:
            click.echo("the demo operation exists already")
            return
        if if_empty and session.scalar(sa.select(sa.func.count()).select_from(Operation)):
            click.echo("the database holds operations already; not loading the demo")
            return
        load_demo_geography(session, cli_actor())
    click.echo("demo operation loaded")
