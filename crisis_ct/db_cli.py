"""`crisis-ct db …`: the database schema."""
from __future__ import annotations

import click

from crisis_ct.cli_support import AppGroup


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration not yet applied, and say which."""
    from crisis_ct.db import upgrade
    from crisis_ct.web_db import database

    applied = upgrade(database())
    for revision in applied:
        click.echo(f"applied {revision}")
    click.echo("database schema is up to date" + ("" if applied else " (nothing to apply)"))


def _add_backup_commands() -> None:
    from crisis_ct.backup import backup_command, restore_command

    db_group.add_command(backup_command)
    db_group.add_command(restore_command)


_add_backup_commands()
