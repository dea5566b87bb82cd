"""The `crisis-ct` command. Each module keeps its own commands in its own `cli.py`; this file
only names them, so that `crisis-ct --help` lists every command without importing any
module (or the application, or SQLAlchemy): a module is imported when one of its commands
runs or its own `--help` is asked for, and the app is built only when a command runs.

To add a command or group: write it in your module (a click command, or a group with
`cls=crisis_ct.cli_support.AppGroup`, whose commands run in the app context; a single
command that needs the app uses `@crisis_ct.cli_support.with_app`), keep heavy imports
inside the functions if its `--help` should be quick, and add one line to COMMANDS below:
name -> ("module:attribute", one-line help). tests/test_cli_startup.py checks that the
line's help is the command's own and that the listing stays import-free."""
from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("crisis_ct.db_cli:db_group", "Database schema."),
    "demo": ("crisis_ct.demo:demo_group", "The fictional demo operation."),
    "export": ("crisis_ct.exports.cli:export_command",
               "Write an export (sites, admin-areas, tasks, submissions, 4w) as CSV, XLSX or GeoJSON."),
    "jobs": ("crisis_ct.jobs.cli:jobs_group", "The background jobs and the scoring queue (no sub-command: list them)."),
    "geo": ("crisis_ct.geography.cli:geo_group", "Admin boundaries and sites."),
    "kobo": ("crisis_ct.kobo.cli:kobo_group", "KoboToolbox projects: connect, sync, import exports, replay the quarantine."),
    "operations": ("crisis_ct.geography.cli:operations_group", "Operations (one humanitarian response each)."),
    "referral": ("crisis_ct.referral.cli:referral_group",
                 "The referral directory: import and export the service-mapping sheet, providers to verify."),
    "score": ("crisis_ct.scoring.cli:score_command", "Recompute every site's and area's risk from the stored submissions."),
    "tasks": ("crisis_ct.tasks.cli:tasks_group", "Mitigation tasks and their claims."),
    "tokens": ("crisis_ct.accounts.cli:tokens_group", "API tokens (only a hash is stored; a token is shown once)."),
    "users": ("crisis_ct.accounts.cli:users_group", "People: their roles, profiles, passwords and access."),
    "worker": ("crisis_ct.worker:worker_command",
               "Run the scheduled jobs (queue re-scoring, claim expiry, Kobo sync, daily re-score) until stopped."),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use; their list and one-line help
    come from `lazy_commands` (name -> ("module:attribute", help))."""

    def __init__(self, *args, lazy_commands: dict[str, tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands or name not in self.lazy_commands:
            return super().get_command(ctx, name)
        module_name, _, attribute = self.lazy_commands[name][0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        self.add_command(command, name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy_commands[name][1] if name in self.lazy_commands
                 else self.commands[name].get_short_help_str(formatter.width))
                for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
def main() -> None:
    """crisis-ct: counter-trafficking risk and mitigation coordination."""
