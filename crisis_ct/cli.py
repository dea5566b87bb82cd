"""The `crisis-ct` command: Flask's CLI plus one sub-command group per module."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup

from crisis_ct.app import create_app
from crisis_ct.db import upgrade
from crisis_ct.web_db import database


def _app(*_args, **_kwargs):
    return create_app()


@click.group(cls=FlaskGroup, create_app=_app, add_version_option=False)
def main() -> None:
    """crisis-ct: counter-trafficking risk and mitigation coordination."""


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration not yet applied."""
    upgrade(database())
    click.echo("database schema is up to date")


def _register() -> None:
    from crisis_ct import demo
    from crisis_ct.accounts.cli import tokens_group, users_group
    from crisis_ct.exports.cli import export_command
    from crisis_ct.geography.cli import geo_group, operations_group
    from crisis_ct.tasks.cli import tasks_group
    from crisis_ct.kobo.cli import kobo_group
    from crisis_ct.scoring.cli import score_command
    from crisis_ct.worker import worker_command

    for group in (users_group, tokens_group, operations_group, geo_group, demo.demo_group, score_command,
                  kobo_group, tasks_group, worker_command, export_command):
        main.add_command(group)


_register()
